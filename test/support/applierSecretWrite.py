"""
The applier writing a release in a scratch root, watched at the moment each file is created: the
mode of its directory, the process umask and the new file's own mode, before a byte is written.
Prints one JSON object; test/bundle.test.ts asserts it.

    python3 applierSecretWrite.py APPLIER_DIR SCRATCH
"""
import json
import os
import stat

from scratchApplier import applier, owner

os.makedirs(applier.RELEASES)
seen = {}
real_open = os.open


def watching_open(path, flags, mode=0o777, *args, **kwargs):
    descriptor = real_open(path, flags, mode, *args, **kwargs)
    if flags & os.O_CREAT and str(path).startswith(applier.RELEASES):
        umask = os.umask(0)
        os.umask(umask)
        seen[str(path).split("/files", 1)[1]] = {
            "directory": oct(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)),
            "file": oct(stat.S_IMODE(os.fstat(descriptor).st_mode)),
            "size": os.fstat(descriptor).st_size,
            "umask": oct(umask),
        }
    return descriptor


applier.os.open = watching_open
payload = {
    "files": [
        {"path": "/etc/opendkim/keys/example.com.mailserver.private", "mode": "0600", "owner": owner, "content": "-----BEGIN PRIVATE KEY-----\n", "secret": True},
        {"path": "/etc/opendkim.conf", "mode": "0644", "owner": owner, "content": "Mode sv\n"},
    ]
}
applier.write_release(payload, "r1")
files = os.path.join(applier.RELEASES, "r1", "files")
after = {
    p: {
        "directory": oct(stat.S_IMODE(os.stat(os.path.dirname(files + p)).st_mode)),
        "file": oct(stat.S_IMODE(os.stat(files + p).st_mode)),
    }
    for p in ("/etc/opendkim/keys/example.com.mailserver.private", "/etc/opendkim.conf")
}
print(json.dumps({"atCreation": seen, "after": after}, sort_keys=True))
