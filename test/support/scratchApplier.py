"""
The applier, imported from APPLIER_DIR (argv[1]) with every path it writes moved into a scratch
root (argv[2]), and a live directory there for the files a test payload installs. Shared by the
applier*.py helpers; what each stubs of a real host is its own.
"""
import grp
import os
import pwd
import sys

sys.path.insert(0, sys.argv[1])
import applier  # noqa: E402

root = sys.argv[2]
applier.LOG = "/dev/null"
applier.ETC = os.path.join(root, "etc-mailserver")
applier.RELEASES = os.path.join(applier.ETC, "releases")
applier.CURRENT = os.path.join(applier.ETC, "current")
applier.STATE = os.path.join(root, "state")
applier.ORIGINALS = os.path.join(applier.STATE, "originals")
applier.STATE_FILE = os.path.join(applier.STATE, "state.json")
applier.install_packages = lambda payload: []

live = os.path.join(root, "live")
os.makedirs(live)
# The owner every test file gets: whoever runs the test (the applier chowns to it).
owner = "%s:%s" % (pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name)
