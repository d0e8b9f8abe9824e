# Test accounts, in a copy of /etc bind-mounted over /etc inside the private mount namespace
# of tests/e2e/run.sh: they never exist on the host. The whole directory is bound, not the two
# files: a host tool that replaces /etc/passwd by rename (useradd) would otherwise undo a
# file bind mount in the middle of a run.
#   pilot (4001)       the whitelisted pilot account
#   pilot2 (4002)      a pilot in the .pilot pool prefix (whitelisted as ".pilot")
#   intruder (4003)    not whitelisted
#   gxnobody (4100)    site-isolation account
#   alicea (5001)      the DN-mapped account of Alice
#   atlas001..064      pool accounts 10001.. in group atlas (2000); atlasprd (2001)
#   lowuid (500)       below min_uid
install_test_accounts() {
        local dir=$1
        mkdir -p "$dir"
        cp -a /etc/. "$dir/"
        {
                echo "pilot:x:4001:4001:pilot:/nonexistent:/bin/sh"
                echo "pilot2:x:4002:4001:pilot2:/nonexistent:/bin/sh"
                echo "intruder:x:4003:4003:intruder:/nonexistent:/bin/sh"
                echo "gxnobody:x:4100:4100:isolation:/nonexistent:/bin/sh"
                echo "alicea:x:5001:5001:alice:/nonexistent:/bin/sh"
                echo "lowuid:x:500:500:low:/nonexistent:/bin/sh"
                for i in $(seq -w 1 64); do
                        echo "atlas0$i:x:$((10000 + 10#$i)):2000:pool:/nonexistent:/bin/sh"
                done
        } >>"$dir/passwd"
        {
                echo "pilot:x:4001:"
                echo "intruder:x:4003:"
                echo "gxnobody:x:4100:"
                echo "alicea:x:5001:"
                echo "lowuid:x:500:"
                echo "atlas:x:2000:"
                echo "atlasprd:x:2001:"
                echo "glexecpilots:x:4500:pilot"
        } >>"$dir/group"
        chmod 0644 "$dir/passwd" "$dir/group"
        mount --bind "$dir" /etc
}
