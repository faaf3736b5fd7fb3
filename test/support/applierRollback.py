"""
The applier's apply() in a scratch root, every step that needs a real host stubbed (packages,
users, DNS, services): what a refused or rolled-back release leaves in place. Prints one JSON
object of observations; test/bundle.test.ts asserts them.

    python3 applierRollback.py APPLIER_DIR SCRATCH
"""
import json
import os

from scratchApplier import applier, live, owner

for name in ("wait_for_cloud_init", "ensure_users", "wait_for_records"):
    setattr(applier, name, lambda *args: None)
activated = []
applier.activate = lambda payload, services, first=False, retried=None, restart=frozenset(): activated.append(
    sorted(f["path"] for f in payload.get("files", []))
)
fail = {"check": False, "self": False}


def check_release(payload, release):
    if fail["check"]:
        raise applier.Failure("the new configuration does not pass its checks; nothing was changed")


def self_check(payload):
    if fail["self"]:
        raise applier.Failure("port 25 does not answer")


applier.check_release = check_release
applier.self_check = self_check

package_file = os.path.join(live, "package.conf")
new_file = os.path.join(live, "new.conf")
with open(package_file, "w") as out:
    out.write("from the package\n")


def payload(version, *paths):
    return {"files": [{"path": p, "mode": "0644", "owner": owner, "content": "%s %s\n" % (version, os.path.basename(p))} for p in paths]}


def observe():
    return {
        "current": os.readlink(applier.CURRENT),
        "package": [os.path.islink(package_file), open(package_file).read()],
        "new": os.path.lexists(new_file),
        "originals": applier.load_state().get("originals", []),
    }


def attempt(p):
    try:
        applier.apply(applier.PREPARE, p)
        return "ok"
    except applier.Failure as failure:
        return str(failure)


steps = {}
# The first release fails its self-check after the switch: the package's own file comes back.
fail["self"] = True
steps["first-rolled-back"] = [attempt(payload("v0", package_file, new_file)), observe()]
fail["self"] = False
steps["first"] = [attempt(payload("v1", package_file)), observe()]
first_release = os.readlink(applier.CURRENT)
# Refused by its checks before the switch: a new path must not be left linked into a release that is not current.
fail["check"] = True
steps["refused"] = [attempt(payload("v2", package_file, new_file)), observe()]
fail["check"] = False
# Switched to, then its self-check fails: back to the first release, the new path's link gone, services reloaded with it.
activated.clear()
fail["self"] = True
steps["rolled-back"] = [attempt(payload("v3", package_file, new_file)), observe(), activated[-1:]]
fail["self"] = False
# A release with new.conf, then one without it: its link goes (a dangling link in, say,
# sshd_config.d would stop sshd at its next start).
steps["added"] = [attempt(payload("v4", package_file, new_file)), observe()]
steps["removed"] = [attempt(payload("v5", package_file)), observe()]
print(json.dumps({"steps": steps, "firstRelease": first_release, "packageFile": package_file, "newFile": new_file}))
