"""Applies a mailserver configuration bundle to this host (run by mailserver-apply, as root).

A bundle is the host's whole configuration: packages, files, accounts, DNS records to wait for.
Every file lives in a release directory; its live path is a link into the current release, so
switching releases switches every file at once. The steps, each of which stops the run with a
non-zero exit (and `pulumi up` with it) when it fails:

  1. wait for cloud-init, install missing packages;
  2. write the release (keys 0600 in 0700 directories from the first byte), compile maps;
  3. wait until the zone's authoritative servers answer the records the release relies on
     (the DKIM key it signs with, the host's own addresses);
  4. check the release with the real tools, in a private mount namespace where it is already
     current (postconf, postfix check, opendkim -n, sshd -t, visudo, nft -c, sh -n);
  5. switch the current release (one rename), reload the services whose files changed;
  6. check the running services (SMTP banner, milter socket, SRS lookups);
  7. if 5 or 6 fails: switch back to the previous release, reload again, exit 1.

`pulumi up` runs it twice per change, in two stages (the bundle's "stage"):

  prepare  after the records the host relies on, before those that say what it does (SPF, PTR):
           everything that narrows or keeps what the host does is applied; what widens it is
           held — a new host name holds the whole release, IPv6 new to the host holds main.cf
           at IPv4 (the payload's "gates");
  commit   after those records: waits until the records that announce the host (SPF listing
           each address, each address's PTR naming the host) are served, then applies all.

So the host never sends from a name or an address before its SPF and PTR say so, and stops
before they go.

It prints one JSON report on stdout and never prints a secret file's content.
"""

import hashlib
import json
import os
import pwd
import grp
import shutil
import socket
import subprocess
import sys
import time

FORMAT = "mailserver-bundle/1"
ETC = "/etc/mailserver"
RELEASES = os.path.join(ETC, "releases")
CURRENT = os.path.join(ETC, "current")
STATE = "/var/lib/mailserver"
ORIGINALS = os.path.join(STATE, "originals")
STATE_FILE = os.path.join(STATE, "state.json")
LOG = "/var/log/mailserver-apply.log"
LOCK = "/run/mailserver-apply.lock"
EMPTY = "empty"
PREPARE = "prepare"
COMMIT = "commit"
STAGES = (PREPARE, COMMIT)
MODES = {"0644": 0o644, "0640": 0o640, "0600": 0o600, "0755": 0o755, "0440": 0o440}
# Where live files may be; nothing else is ever written.
ALLOWED_PREFIXES = ("/etc/", "/usr/local/sbin/mailserver-")
FORBIDDEN = ("/etc/mailserver/", "/etc/shadow", "/etc/passwd", "/etc/group", "/etc/gshadow")
SERVICE_ORDER = ["systemd", "hostname", "nftables", "sshd", "postsrsd", "opendkim", "rspamd", "dovecot", "postfix"]
# Installed with policy-rc.d denying these, so no package starts its service with its own defaults.
POLICY_RC_D = "/usr/sbin/policy-rc.d"
DOVECOT_CONF = "/etc/dovecot/mailserver.conf"
# The first time, a service started by its package with its own defaults restarts: a reload does
# not move OpenDKIM's socket, for one.
RESTART = {
    "nftables": [["systemctl", "restart", "nftables"]],
    "sshd": [["systemctl", "reload-or-restart", "ssh"]],
    "postsrsd": [["systemctl", "restart", "postsrsd"]],
    "opendkim": [["systemctl", "restart", "opendkim"]],
    "rspamd": [["systemctl", "restart", "rspamd"]],
    "dovecot": [["systemctl", "restart", "dovecot"]],
    "postfix": [["systemctl", "restart", "postfix"]],
}
RELOAD = {
    "systemd": [["systemctl", "daemon-reload"]],
    "nftables": [["systemctl", "restart", "nftables"]],
    "sshd": [["systemctl", "reload-or-restart", "ssh"]],
    # postsrsd 1.10 re-reads its settings only when started.
    "postsrsd": [["systemctl", "restart", "postsrsd"]],
    "opendkim": [["systemctl", "reload-or-restart", "opendkim"]],
    # rspamd re-reads its configuration on SIGHUP (new workers).
    "rspamd": [["systemctl", "reload-or-restart", "rspamd"]],
    "dovecot": [["systemctl", "reload-or-restart", "dovecot"]],
    "postfix": [["systemctl", "reload-or-restart", "postfix"]],
}


class Failure(Exception):
    """A step failed; the message says which and why."""


def log(message):
    line = "%s mailserver-apply: %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), message)
    sys.stderr.write(line)
    try:
        with open(LOG, "a") as out:
            out.write(line)
    except OSError:
        pass


def run(command, check=True, stdin=None, timeout=600, env=None):
    result = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise Failure("%s exited %d: %s" % (" ".join(command), result.returncode, (result.stderr or result.stdout).strip()[-2000:]))
    return result


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# ---------------------------------------------------------------------------------------------
# The bundle


def read_bundle():
    """The bundle's stage and payload."""
    bundle = json.loads(sys.stdin.buffer.read())
    if bundle.get("format") != FORMAT:
        raise Failure("not a %s bundle" % FORMAT)
    stage = bundle.get("stage")
    if stage not in STAGES:
        raise Failure("stage %r is not one of %s" % (stage, ", ".join(STAGES)))
    payload = bundle.get("payload")
    if not isinstance(payload, dict):
        raise Failure("the bundle has no payload")
    for entry in payload.get("files", []):
        check_file_entry(entry)
    for gate in payload.get("gates", []):
        for entry in gate.get("held", []):
            if entry.get("path") not in {e["path"] for e in payload.get("files", [])}:
                raise Failure("gate %s holds %r, which is not a file of the bundle" % (gate.get("feature"), entry.get("path")))
    return stage, payload


def features_of(payload, fallback):
    """The features a saved release uses; a release saved before features existed used what `fallback` uses."""
    if payload is None:
        return {}
    return payload.get("features", fallback)


def staged(payload, stage, previous_payload):
    """
    What this stage applies: the payload itself at commit; at prepare, None when a new host name
    holds the whole release, else the payload with each gate whose feature is new to the host
    held (its files at their held content, the feature off). The result has no gates: a release
    is what is written, and its id is its hash.
    """
    result = {key: value for key, value in payload.items() if key not in ("gates", "announcedBy")}
    if stage == COMMIT:
        return result
    if previous_payload is not None and previous_payload.get("hostname") != payload.get("hostname"):
        return None
    running = features_of(previous_payload, payload.get("features", {}))
    features = dict(payload.get("features", {}))
    held = {}
    for gate in payload.get("gates", []):
        if features.get(gate["feature"]) and not running.get(gate["feature"]):
            features[gate["feature"]] = False
            held.update({entry["path"]: entry["content"] for entry in gate["held"]})
    result["features"] = features
    result["files"] = [dict(entry, content=held[entry["path"]]) if entry["path"] in held else entry for entry in payload.get("files", [])]
    return result


def restarted_services(payload, effective, previous_payload):
    """Services that restart rather than reload: those of each gate whose feature goes on or off."""
    if previous_payload is None:
        return set()
    running = features_of(previous_payload, effective.get("features", {}))
    services = set()
    for gate in payload.get("gates", []):
        if bool(running.get(gate["feature"])) != bool(effective.get("features", {}).get(gate["feature"])):
            services.update(gate.get("restart", []))
    return services


def check_file_entry(entry):
    path = entry.get("path")
    if not isinstance(path, str) or not path.startswith("/") or os.path.normpath(path) != path or "\0" in path:
        raise Failure("refusing file path %r" % (path,))
    if not path.startswith(ALLOWED_PREFIXES) or path.startswith(FORBIDDEN):
        raise Failure("refusing to manage %s" % path)
    if entry.get("mode") not in MODES:
        raise Failure("%s: mode %r is not one of %s" % (path, entry.get("mode"), ", ".join(MODES)))
    owner = entry.get("owner", "root:root")
    if not isinstance(owner, str) or owner.count(":") != 1:
        raise Failure("%s: owner %r is not user:group" % (path, owner))
    if not isinstance(entry.get("content"), str):
        raise Failure("%s: no content" % path)


def release_id(payload):
    return hashlib.sha256(canonical(payload).encode()).hexdigest()[:16]


def release_dir(release):
    return os.path.join(RELEASES, release)


def in_release(release, path):
    return os.path.join(release_dir(release), "files") + path


def live_target(path):
    return os.path.join(CURRENT, "files") + path


def load_state():
    try:
        with open(STATE_FILE) as source:
            return json.load(source)
    except (OSError, ValueError):
        return {"current": EMPTY, "previous": None, "files": {}}


def save_state(state):
    temporary = STATE_FILE + ".tmp"
    with open(temporary, "w") as out:
        json.dump(state, out, indent=2, sort_keys=True)
    os.replace(temporary, STATE_FILE)


# ---------------------------------------------------------------------------------------------
# Steps


def wait_for_cloud_init():
    if shutil.which("cloud-init") is None:
        return
    result = run(["cloud-init", "status", "--wait"], check=False, timeout=1800)
    log("cloud-init: %s" % (result.stdout.strip().splitlines() or ["?"])[-1])


def install_packages(payload):
    wanted = payload.get("packages", [])
    missing = [name for name in wanted if run(["dpkg-query", "-W", "-f=${db:Status-Status}", name], check=False).stdout != "installed"]
    if not missing:
        return []
    log("installing %s" % " ".join(missing))
    selections = "\n".join(payload.get("debconf", [])) + "\n"
    run(["debconf-set-selections"], stdin=selections)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-q"], env=env, timeout=1800)
    denied = payload.get("noPackageStart", [])
    guard = denied and not os.path.lexists(POLICY_RC_D)
    if guard:
        # invoke-rc.d names the service ("dovecot"), deb-systemd-invoke the unit ("dovecot.service").
        patterns = "|".join("%s|%s.*" % (name, name) for name in denied)
        with open(POLICY_RC_D, "w") as out:
            out.write('#!/bin/sh\n# mailserver-apply: installing packages\ncase "$1" in %s) exit 101 ;; esac\nexit 0\n' % patterns)
        os.chmod(POLICY_RC_D, 0o755)
    try:
        run(["apt-get", "install", "-y", "-q", "-o", "Dpkg::Options::=--force-confold"] + missing, env=env, timeout=3600)
    finally:
        if guard:
            os.unlink(POLICY_RC_D)
    return missing


def ids(owner):
    user, group = owner.split(":")
    return pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid


def ensure_users(payload):
    for account in payload.get("users", []):
        name = account["name"]
        try:
            pwd.getpwnam(name)
        except KeyError:
            log("creating the account %s" % name)
            run(["useradd", "--create-home", "--shell", account.get("shell", "/bin/bash"), name])
            run(["passwd", "--lock", name])
        for group in account.get("groups", []):
            run(["usermod", "--append", "--groups", group, name])
    for account in payload.get("systemUsers", []):
        try:
            pwd.getpwnam(account["name"])
        except KeyError:
            log("creating the system account %s" % account["name"])
            run(["useradd", "--system", "--user-group", "--home-dir", account["home"], "--no-create-home", "--shell", "/usr/sbin/nologin", account["name"]])


def write_release(payload, release):
    """The release directory: every file at its live path below files/, with its mode and owner."""
    final = release_dir(release)
    if os.path.isdir(final):
        return False
    staging = final + ".tmp"
    if os.path.exists(staging):
        shutil.rmtree(staging)
    os.makedirs(os.path.join(staging, "files"), mode=0o755)
    old_umask = os.umask(0o077)
    try:
        for entry in payload.get("files", []):
            target = os.path.join(staging, "files") + entry["path"]
            parent = os.path.dirname(target)
            uid, gid = ids(entry.get("owner", "root:root"))
            if entry.get("secret"):
                # The key's directory is 0700 and the file 0600 before a byte is written; the
                # directories above it stay 0755, whichever file of the bundle comes first.
                make_public_dirs(os.path.join(staging, "files"), os.path.dirname(parent))
                os.makedirs(parent, mode=0o700, exist_ok=True)
                os.chmod(parent, 0o700)
                os.chown(parent, uid, gid)
            else:
                make_public_dirs(os.path.join(staging, "files"), parent)
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.fchown(descriptor, uid, gid)
            with os.fdopen(descriptor, "w") as out:
                out.write(entry["content"])
            os.chmod(target, MODES[entry["mode"]])
            if entry.get("postmap"):
                # With the release's own main.cf (the live one may not exist yet).
                config = os.path.join(staging, "files", "etc", "postfix")
                run(["postmap"] + (["-c", config] if os.path.exists(os.path.join(config, "main.cf")) else []) + [target])
                os.chmod(target + ".db", 0o644)
    finally:
        os.umask(old_umask)
    with open(os.path.join(staging, "payload-digest"), "w") as out:
        out.write(release + "\n")
    os.rename(staging, final)
    return True


def make_public_dirs(root, directory):
    missing = []
    while directory != root and not os.path.isdir(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    for path in reversed(missing):
        os.mkdir(path, 0o755)
        os.chmod(path, 0o755)


def managed_paths(payload):
    paths = []
    for entry in payload.get("files", []):
        paths.append(entry["path"])
        if entry.get("postmap"):
            paths.append(entry["path"] + ".db")
    return paths


def link_live(paths, state):
    """
    Every managed path becomes a link into the current release; a file a package put there is kept
    aside once. Returns what it linked anew, for undo_links: [path, whether its original was kept aside].
    """
    originals = state.setdefault("originals", [])
    linked = []
    for path in paths:
        target = live_target(path)
        if os.path.islink(path) and os.readlink(path) == target:
            continue
        kept = False
        if os.path.lexists(path):
            if os.path.isdir(path) and not os.path.islink(path):
                raise Failure("%s is a directory; refusing to replace it" % path)
            keep = ORIGINALS + path
            os.makedirs(os.path.dirname(keep), mode=0o700, exist_ok=True)
            if not os.path.lexists(keep):
                os.rename(path, keep)
                originals.append(path)
                kept = True
            else:
                os.unlink(path)
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        link = path + ".mailserver-link"
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(target, link)
        os.rename(link, path)
        linked.append([path, kept])
    return linked


def undo_links(linked, state):
    """
    Takes back what link_live did for a release that is not switched to (or is switched away from):
    a new path's link would point into a release that is not current, so it goes, and a file kept
    aside returns to its place.
    """
    originals = state.setdefault("originals", [])
    for path, kept in reversed(linked):
        if os.path.islink(path) and os.readlink(path) == live_target(path):
            os.unlink(path)
        if kept and os.path.lexists(ORIGINALS + path):
            os.rename(ORIGINALS + path, path)
            if path in originals:
                originals.remove(path)


def unlink_stale(keep, previous_paths):
    for path in previous_paths:
        if path not in keep and os.path.islink(path) and os.readlink(path) == live_target(path):
            os.unlink(path)


def point_current(release):
    link = CURRENT + ".next"
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(os.path.join("releases", release), link)
    os.rename(link, CURRENT)


# DNS ------------------------------------------------------------------------------------------


def dig(*arguments):
    result = run(["dig", "+short", "+time=3", "+tries=2"] + list(arguments), check=False, timeout=30)
    return [line.strip() for line in result.stdout.splitlines() if line.strip() and not line.startswith(";")]


def authorities(name):
    """The name servers of the closest enclosing zone of `name`."""
    labels = name.rstrip(".").split(".")
    for i in range(len(labels) - 1):
        zone = ".".join(labels[i:])
        servers = [ns.rstrip(".") for ns in dig("NS", zone)]
        if servers:
            return servers
    return []


def txt_value(line):
    """dig +short TXT prints `"a" "b"`: the strings concatenated."""
    parts, current, quoted, escaped = [], "", False, False
    for char in line:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            if quoted:
                parts.append(current)
                current = ""
            quoted = not quoted
        elif quoted:
            current += char
    return "".join(parts)


def answers(record, server=None):
    where = ["@" + server, "+norecurse"] if server else []
    lines = dig(*(where + [record["name"], record["type"]]))
    if record["type"] == "TXT":
        return [txt_value(line) for line in lines]
    return lines


def served(record, server):
    """Whether `server` (None: the host's resolver) answers `record`."""
    if "spfTerm" in record:
        return any(text.startswith("v=spf1 ") and record["spfTerm"] in text.split() for text in answers(record, server))
    return record["value"] in answers(record, server)


def wait_for_records(records, seconds):
    """Waits until every record is served: by each authoritative server of its zone, a PTR by the resolver."""
    if not records:
        return
    deadline = time.time() + int(seconds)
    pending = list(records)
    while True:
        still = []
        for record in pending:
            servers = [None] if record["type"] == "PTR" else authorities(record["name"]) or [None]
            if not all(served(record, server) for server in servers):
                still.append(record)
        if not still:
            log("DNS: %d record(s) served" % len(records))
            return
        if time.time() > deadline:
            raise Failure(
                "DNS: not served after %ss: %s; the old configuration stays in place"
                % (seconds, ", ".join("%s %s %s" % (r["name"], r["type"], r.get("spfTerm", r.get("value"))) for r in still))
            )
        pending = still
        time.sleep(5)


# Checks ---------------------------------------------------------------------------------------


def release_checks(payload):
    """Commands that check the release; they run where the release is already current."""
    paths = set(managed_paths(payload))
    checks = []
    if "/etc/postfix/main.cf" in paths:
        checks.append(["postconf", "-n"])
        checks.append(["postfix", "check"])
    if "/etc/opendkim.conf" in paths:
        checks.append(["opendkim", "-n"])
    if DOVECOT_CONF in paths:
        checks.append(["doveconf", "-c", DOVECOT_CONF, "-n"])
    if any(p.startswith("/etc/ssh/") for p in paths):
        checks.append(["sshd", "-t"])
    for path in sorted(paths):
        if path.startswith("/etc/sudoers.d/"):
            checks.append(["visudo", "-c", "-q", "-f", path])
        if path == "/etc/nftables.conf":
            checks.append(["nft", "-c", "-f", path])
    for entry in payload.get("files", []):
        if entry["mode"] == "0755" and entry["content"].startswith("#!/bin/sh"):
            checks.append(["sh", "-n", entry["path"]])
    for query in payload.get("mapQueries", []):
        checks.append(["postmap", "-q", query["key"], query["map"]])
    return checks


def check_release(payload, release):
    """Runs every check in a private mount namespace in which `release` is the current one."""
    current = os.path.realpath(CURRENT)
    failures = []
    for check in release_checks(payload):
        script = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'
        result = run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", release_dir(release), current] + check, check=False)
        warnings = [line for line in result.stderr.splitlines() if "warning" in line.lower()]
        if result.returncode != 0 or (check[0] in ("postconf", "doveconf") and warnings):
            failures.append("%s: %s" % (" ".join(check), (result.stderr or result.stdout).strip()[-800:] or "exit %d" % result.returncode))
    if failures:
        raise Failure("the new configuration does not pass its checks; nothing was changed:\n  " + "\n  ".join(failures))
    log("release %s passes %d checks" % (release, len(release_checks(payload))))


def greeting(port, timeout=10):
    """The first line a service on `port` of this host says (SMTP 220, IMAP * OK); then a polite goodbye, so nothing logs a lost connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        said = connection.recv(512).decode("latin-1").strip()
        goodbye = b"QUIT\r\n" if said.startswith("220") else b"a LOGOUT\r\n" if said.startswith("* OK") else b""
        try:
            if goodbye:
                connection.sendall(goodbye)
                connection.recv(512)
        except OSError:
            pass
        return said


def smtp_banner(timeout=10):
    return greeting(25, timeout)


def self_check(payload):
    problems = []
    if payload.get("hostname") and socket.gethostname() != payload["hostname"]:
        problems.append("the host is named %r, not %r" % (socket.gethostname(), payload["hostname"]))
    for unit in payload.get("running", []):
        if run(["systemctl", "is-active", "--quiet", unit], check=False).returncode != 0:
            problems.append("%s is not running" % unit)
    expected = payload.get("banner")
    if expected:
        banner = ""
        for _ in range(20):
            try:
                banner = smtp_banner()
                break
            except OSError as error:
                banner = str(error)
                time.sleep(0.5)
        if not banner.startswith(expected):
            problems.append("SMTP banner %r, not %r" % (banner, expected))
    for expected in payload.get("greetings", []):
        said = ""
        for _ in range(20):
            try:
                said = greeting(expected["port"])
                break
            except OSError as error:
                said = str(error)
                time.sleep(0.5)
        if not said.startswith(expected["startsWith"]):
            problems.append("port %d says %r, not %r" % (expected["port"], said, expected["startsWith"]))
    for path in payload.get("sockets", []):
        for _ in range(20):
            if os.path.exists(path):
                break
            time.sleep(0.5)
        else:
            problems.append("no socket %s" % path)
    for query in payload.get("liveQueries", []):
        result = run(["postmap", "-q", query["key"], query["map"]], check=False)
        if result.returncode != 0 or not result.stdout.strip().startswith(query.get("startsWith", "")):
            problems.append("postmap -q %s %s: %r" % (query["key"], query["map"], result.stdout.strip() or result.stderr.strip()))
    if problems:
        raise Failure("the services do not work with the new configuration: " + "; ".join(problems))


# ---------------------------------------------------------------------------------------------


def changed_services(payload, previous_payload):
    """The files that differ from the previous release (a saved summary) and the services to reload."""
    before = {e["path"]: e for e in (previous_payload or {}).get("files", [])}
    services = set()
    changed = []
    for entry in payload.get("files", []):
        old = before.get(entry["path"])
        if old is None or canonical(old) != canonical(file_summary(entry)):
            changed.append(entry["path"])
            services.update(entry.get("reload", []))
    for path, old in before.items():
        if path not in {e["path"] for e in payload.get("files", [])}:
            changed.append(path)
            services.update(old.get("reload", []))
    if previous_payload is None or previous_payload.get("hostname") != payload.get("hostname"):
        services.add("hostname")
    return changed, [s for s in SERVICE_ORDER if s in services]


def unit_log(unit):
    """The unit's last journal lines: why it failed, for the report and `pulumi up`'s output."""
    try:
        result = run(["journalctl", "-u", unit, "-n", "15", "--no-pager", "-o", "short-iso"], check=False)
    except OSError as error:
        return "(no journal: %s)" % error
    return (result.stdout or result.stderr).strip()[-1500:]


def run_service(command, retried):
    """A systemctl command; a unit that fails is tried once more 3 s later (a package's own start
    may still be settling on a new host), and every first failure is kept in `retried` with the
    unit's journal. A second failure stops the run with that journal."""
    result = run(command, check=False)
    if result.returncode == 0:
        return
    unit = command[-1]
    first = {"command": " ".join(command), "error": (result.stderr or result.stdout).strip()[-500:], "journal": unit_log(unit)}
    retried.append(first)
    log("%s failed, retrying in 3 s: %s" % (first["command"], first["error"]))
    time.sleep(3)
    again = run(command, check=False)
    if again.returncode != 0:
        raise Failure(
            "%s exited %d twice: %s\n%s journal:\n%s"
            % (first["command"], again.returncode, (again.stderr or again.stdout).strip()[-500:], unit, unit_log(unit))
        )


def activate(payload, services, first=False, retried=None, restart=frozenset()):
    retried = [] if retried is None else retried
    if "hostname" in services and payload.get("hostname"):
        # Sets the running name and /etc/hostname; a failure rolls the release back.
        run(["hostnamectl", "hostname", payload["hostname"]])
    for command in payload.get("beforeReload", []):
        run(command)
    for unit in payload.get("enable", []):
        run(["systemctl", "enable", unit])
    for service in services:
        for command in (RESTART if (first or service in restart) and service in RESTART else RELOAD).get(service, []):
            run_service(command, retried)
    for unit in payload.get("running", []):
        run_service(["systemctl", "start", unit], retried)
    for command in payload.get("afterReload", []):
        run(command)


def load_payload(release):
    if release in (None, EMPTY):
        return None
    try:
        with open(os.path.join(release_dir(release), "payload.json")) as source:
            return json.load(source)
    except (OSError, ValueError):
        return None


def file_summary(entry):
    """A file entry as a release keeps it: its content replaced by the content's SHA-256."""
    return dict(entry, content=hashlib.sha256(entry["content"].encode()).hexdigest())


def payload_summary(payload):
    """The payload of a release, without file contents (enough to diff and roll back)."""
    return dict(payload, files=[file_summary(e) for e in payload.get("files", [])])


def save_payload(release, payload):
    summary = payload_summary(payload)
    path = os.path.join(release_dir(release), "payload.json")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump(summary, out, sort_keys=True)


def prune(keep):
    for name in os.listdir(RELEASES):
        if name not in keep and name != EMPTY:
            shutil.rmtree(os.path.join(RELEASES, name), ignore_errors=True)


def apply(stage, payload):
    report = {"stage": stage, "release": None, "changed": [], "installed": [], "reloaded": [], "restarted": [], "retried": []}
    os.makedirs(RELEASES, mode=0o755, exist_ok=True)
    os.makedirs(os.path.join(RELEASES, EMPTY, "files"), mode=0o755, exist_ok=True)
    os.makedirs(STATE, mode=0o700, exist_ok=True)
    if not os.path.lexists(CURRENT):
        point_current(EMPTY)
    state = load_state()
    wait_for_cloud_init()
    report["installed"] = install_packages(payload)
    ensure_users(payload)
    previous = state.get("current", EMPTY)
    previous_payload = load_payload(previous)
    effective = staged(payload, stage, previous_payload)
    if effective is None:
        report.update(release=previous, held="the host name changes to %s: the commit stage switches to it" % payload.get("hostname"))
        log("prepare: %s" % report["held"])
        return report
    release = release_id(effective)
    report["release"] = release
    held = sorted(k for k, on in payload.get("features", {}).items() if on and not effective["features"].get(k))
    if held:
        report["held"] = "%s: new to the host, switched on by the commit stage" % ", ".join(held)
    if previous == release:
        self_check(effective)
        report["unchanged"] = True
        return report
    write_release(effective, release)
    save_payload(release, effective)
    changed, services = changed_services(effective, previous_payload)
    restart = restarted_services(payload, effective, previous_payload)
    report["changed"] = changed
    wait_for_records(payload.get("waitFor", []) + (payload.get("announcedBy", []) if stage == COMMIT else []), payload.get("waitSeconds", 600))
    paths = managed_paths(effective)
    linked = link_live(paths, state)
    save_state(state)
    try:
        check_release(effective, release)
    except Failure:
        # Refused before the switch: the live files are as they were, and the new paths' links go.
        undo_links(linked, state)
        save_state(state)
        raise
    point_current(release)
    # The paths the previous release managed, read before the state names this release's.
    previous_files = state.get("files", [])
    state.update(current=release, previous=previous, files=paths)
    save_state(state)
    try:
        activate(effective, services, first=previous_payload is None, retried=report["retried"], restart=restart)
        self_check(effective)
    except Failure as failure:
        log("rolling back to %s: %s" % (previous, failure))
        point_current(previous)
        undo_links(linked, state)
        if previous_payload is not None:
            unlink_stale(set(managed_paths(previous_payload)), paths)
            activate(previous_payload, [s for s in SERVICE_ORDER], restart=restart)
        state.update(current=previous, previous=None, files=managed_paths(previous_payload or {}))
        save_state(state)
        raise Failure("%s; the previous configuration (%s) is back in place" % (failure, previous))
    unlink_stale(set(paths), [p for p in previous_files if p not in paths])
    for unit in (previous_payload or {}).get("running", []):
        if unit not in effective.get("running", []):
            # A service the configuration no longer runs (Dovecot once the last mailbox goes).
            run(["systemctl", "disable", "--now", unit])
            report.setdefault("stopped", []).append(unit)
    prune({release, previous})
    report["reloaded"] = [s for s in services if s not in restart]
    report["restarted"] = [s for s in SERVICE_ORDER if s in restart and s in services]
    return report


def main():
    import fcntl

    lock = open(LOCK, "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        stage, payload = read_bundle()
        report = apply(stage, payload)
    except Failure as failure:
        log("FAILED: %s" % failure)
        sys.stdout.write(json.dumps({"ok": False, "error": str(failure)}) + "\n")
        return 1
    except Exception as error:  # an unexpected error must also fail the run, loudly
        log("FAILED unexpectedly: %r" % (error,))
        sys.stdout.write(json.dumps({"ok": False, "error": repr(error)}) + "\n")
        return 1
    report["ok"] = True
    log("%s: release %s (%d file(s) changed)" % (report["stage"], report["release"], len(report["changed"])))
    sys.stdout.write(json.dumps(report, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
