// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "sys/privs.h"

int privs_get(uint64_t *eff, uint64_t *prm)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	return 0;
}

int privs_set(uint64_t eff, uint64_t prm)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)prm, 0 },
		{ (uint32_t)(eff >> 32), (uint32_t)(prm >> 32), 0 },
	};

	if (syscall(SYS_capset, &h, d))
		return -errno;
	return 0;
}

bool privs_permitted(uint64_t caps)
{
	uint64_t eff = 0, prm = 0;

	return !privs_get(&eff, &prm) && (prm & caps) == caps;
}

/* Drop what is not in keep from the bounding set; what stays, unwanted. */
static uint64_t bset_shrink(uint64_t keep)
{
	uint64_t left = 0;

	for (int cap = 0; cap < 64; cap++) {
		int in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

		if (in < 0)
			break; /* EINVAL: past the kernel's last capability */
		if (!in || (keep & PRIV_BIT(cap)))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0))
			left |= PRIV_BIT(cap);
	}
	return left;
}

int privs_drop(uint64_t keep, uint64_t permitted_only, uint64_t *bset_left)
{
	uint64_t eff, prm;
	int err;

	err = privs_get(&eff, &prm);
	if (err)
		return err;
	/* first, while CAP_SETPCAP may still be ours */
	*bset_left = bset_shrink(keep);
	/* ambient capabilities would outlive the drop in children (hooks) */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	return privs_set(eff & keep, prm & (keep | permitted_only));
}
