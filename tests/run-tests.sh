#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Run cmocka test binaries, show their output, and close with one line:
# "N passed, N failed, N skipped" summed over all of them.
# Integration binaries (itest_*) need root; without it they are skipped.
set -u

passed=0 failed=0 skipped=0 broken=""
for bin in "$@"; do
	name=$(basename "$bin")
	case "$name" in
	itest_*)
		if [ "$(id -u)" -ne 0 ]; then
			echo "SKIP $name: integration tests need root (sudo make test)"
			skipped=$((skipped + 1))
			continue
		fi
		;;
	esac
	out=$(mktemp)
	case "$name" in
	layers.sh) "$bin" "${OBJDIR:-build/obj}" >"$out" 2>&1 ;;
	*) "$bin" >"$out" 2>&1 ;;
	esac
	rc=$?
	cat "$out"
	case "$name" in
	*.sh) # scripts close with "N passed, N failed"
		p=$(sed -n 's/^\([a-z-]*: \)\{0,1\}\([0-9]*\) passed, [0-9]* failed.*/\2/p' "$out" | tail -n 1)
		f=$(sed -n 's/^\([a-z-]*: \)\{0,1\}[0-9]* passed, \([0-9]*\) failed.*/\2/p' "$out" | tail -n 1)
		s=""
		;;
	*)
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n 1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n 1)
		s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$out" | tail -n 1)
		;;
	esac
	rm -f "$out"
	passed=$((passed + ${p:-0}))
	skipped=$((skipped + ${s:-0}))
	if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		# crashed, failed before it could count, or counted no failure
		# but exited non-zero: a failure all the same
		f=1
		broken="$broken $name(exit $rc)"
	fi
	failed=$((failed + ${f:-0}))
done
[ -n "$broken" ] && echo "broken:$broken"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
