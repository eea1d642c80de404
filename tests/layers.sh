#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The layers of src/, lowest first: pure, sys, kernel, engine, cmd. A module
# may include headers of its own layer or a lower one, never a higher one;
# pure modules use no libbpf and call nothing in libc beyond memory and
# strings (checked on the built objects: OBJDIR, default build/obj).
# Closes with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."

passed=0 failed=0
rank() {
	case "$1" in
	pure) echo 0 ;; sys) echo 1 ;; kernel) echo 2 ;; engine) echo 3 ;; cmd) echo 4 ;;
	*) echo 9 ;;
	esac
}
for f in src/*/*.[ch]; do
	layer=$(basename "$(dirname "$f")")
	r=$(rank "$layer")
	bad=""
	for inc in $(sed -n 's/^#include "\([a-z]*\)\/.*/\1/p' "$f"); do
		[ "$(rank "$inc")" -le "$r" ] || bad="$bad $inc"
	done
	if [ "$layer" = pure ] && grep -q '^#include <bpf/' "$f"; then
		bad="$bad libbpf"
	fi
	if [ -n "$bad" ]; then
		echo "FAIL $f ($layer) includes from above:$bad"
		failed=$((failed + 1))
	else
		passed=$((passed + 1))
	fi
done
# pure objects: every symbol they need comes from another pure object or
# from the part of libc that only touches memory (localtime_r reads the
# zone file once, as tzset does)
objdir=${1:-build/obj}
if [ -d "$objdir/pure" ]; then
	allowed='^(mem[a-z_]*|str[a-z_]*|localtime_r|v?sn?printf|qsort|bsearch|malloc|calloc|realloc|free|abort|inet_ntop|inet_pton|gmtime_r|timezone|_GLOBAL_OFFSET_TABLE_|__.*)$'
	defined=$(nm --defined-only "$objdir"/pure/*.o | awk 'NF == 3 { print $3 }' | sort -u)
	for o in "$objdir"/pure/*.o; do
		bad=$(nm -u "$o" | awk '{ print $2 }' | grep -vE "$allowed" |
			grep -vxF "$defined" | tr '\n' ' ')
		if [ -n "$bad" ]; then
			echo "FAIL $o (pure) calls outside memory: $bad"
			failed=$((failed + 1))
		else
			passed=$((passed + 1))
		fi
	done
else
	echo "SKIP symbol check: no $objdir/pure (build first)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
