"""
The applier's two stages in a scratch root, every step that needs a real host stubbed (packages,
users, DNS, services): what the prepare stage holds back, what the commit stage waits for, and
which services restart. Prints one JSON list of observations; test/bundle.test.ts asserts them.

    python3 applierStages.py APPLIER_DIR SCRATCH
"""
import json
import os

from scratchApplier import applier, live, owner

for name in ("wait_for_cloud_init", "ensure_users", "check_release", "self_check"):
    setattr(applier, name, lambda *args: None)
seen = {}
applier.wait_for_records = lambda records, seconds: seen.update(waited=sorted(r.get("spfTerm", r.get("value")) for r in records))
applier.activate = lambda payload, services, first=False, retried=None, restart=frozenset(): seen.update(
    services=list(services), restart=sorted(restart)
)

main_cf = os.path.join(live, "main.cf")
virtual = os.path.join(live, "virtual")


def payload(hostname, ipv6, operator, legacy=False):
    protocols = "all" if ipv6 else "ipv4"
    result = {
        "hostname": hostname,
        "features": {"ipv6": ipv6},
        "gates": [
            {
                "feature": "ipv6",
                "held": [{"path": main_cf, "content": "myhostname = %s\ninet_protocols = ipv4\n" % hostname}] if ipv6 else [],
                "restart": ["postfix"],
            }
        ],
        "waitFor": [{"name": hostname, "type": "A", "value": "192.0.2.10"}],
        "announcedBy": [{"name": "example.com", "type": "TXT", "spfTerm": "ip4:192.0.2.10"}],
        "files": [
            {"path": main_cf, "mode": "0644", "owner": owner, "content": "myhostname = %s\ninet_protocols = %s\n" % (hostname, protocols), "reload": ["postfix"]},
            {"path": virtual, "mode": "0644", "owner": owner, "content": "postmaster@example.com %s\n" % operator, "reload": ["postfix"]},
        ],
    }
    if legacy:
        del result["features"], result["gates"], result["announcedBy"]
    return result


def run(stage, p):
    seen.clear()
    before = os.readlink(applier.CURRENT) if os.path.lexists(applier.CURRENT) else None
    report = applier.apply(stage, p)
    return {
        "stage": stage,
        "switched": os.readlink(applier.CURRENT) != before,
        "held": report.get("held"),
        "unchanged": report.get("unchanged", False),
        "inet_protocols": open(main_cf).read().split("inet_protocols = ")[1].strip(),
        "myhostname": open(main_cf).read().split("\n")[0],
        "waited": seen.get("waited"),
        "restart": seen.get("restart"),
    }


steps = []
# A new host with IPv6: prepare holds it (IPv4 only) until commit, which waits for the announcing records.
a = payload("mail.example.com", True, "ops@example.org")
steps += [["first boot", run(applier.PREPARE, a), run(applier.COMMIT, a)]]
# A change that does not touch IPv6: applied at prepare, IPv6 kept; commit has nothing left to do.
b = payload("mail.example.com", True, "new@example.org")
steps += [["operator change", run(applier.PREPARE, b), run(applier.COMMIT, b)]]
# IPv6 off: applied at prepare (before SPF and PTR lose the address), Postfix restarted.
c = payload("mail.example.com", False, "new@example.org")
steps += [["ipv6 off", run(applier.PREPARE, c), run(applier.COMMIT, c)]]
# IPv6 back on: held at prepare, switched on at commit with a restart.
steps += [["ipv6 on", run(applier.PREPARE, b), run(applier.COMMIT, b)]]
# A new host name: prepare holds the whole release, commit switches to it.
d = payload("smtp.example.com", True, "new@example.org")
steps += [["rename", run(applier.PREPARE, d), run(applier.COMMIT, d)]]
print(json.dumps(steps))
