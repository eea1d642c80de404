// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What the running kernel (and our privileges) allow, asked before the
 * real load so that a failed load is an error, not a cue to try another
 * way: privileges, BTF and the ring buffer, tracefs for the classic
 * tracepoint, tp_btf with socket storage, the evidence tracepoints, and
 * whether the programs can read the preempt count.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kernel/probe.h"
#include "sys/log.h"
#include "sys/privs.h"
#include "tcpfsm.skel.h"

/* CAP_BPF and CAP_PERFMON (Linux 5.8+), or CAP_SYS_ADMIN for both. */
int probe_privileges(void)
{
	uint64_t eff, prm;
	bool admin;

	if (privs_get(&eff, &prm))
		return 0; /* cannot tell: let the kernel decide */
	admin = eff & PRIV_BIT(PRIV_SYS_ADMIN);
	if ((admin || (eff & PRIV_BIT(PRIV_BPF))) && (admin || (eff & PRIV_BIT(PRIV_PERFMON))))
		return 0;
	pr_err("needs root, or the capabilities CAP_BPF and CAP_PERFMON: run it with sudo");
	return -EPERM;
}

int probe_kernel(const struct tcpfsm_config *cfg)
{
	if (cfg->btf_path) {
		if (access(cfg->btf_path, R_OK)) {
			int err = -errno;

			pr_err("cannot read BTF file %s: %s", cfg->btf_path, strerror(-err));
			return err;
		}
	} else if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		pr_err("this kernel exposes no BTF (/sys/kernel/btf/vmlinux is missing: built without "
		       "CONFIG_DEBUG_INFO_BTF); give the kernel's BTF with --btf FILE");
		return -ENOENT;
	}
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) <= 0) {
		pr_err("this kernel has no BPF ring buffer (needs Linux 5.8 or later)");
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * The classic tracepoint is attached through tracefs. When it is not mounted,
 * mount it in a private mount namespace of our own: nothing is left behind
 * on the host, whatever way we exit.
 */
int probe_tracefs(void)
{
	static const char *const probes[] = {
		"/sys/kernel/tracing/events/sock/inet_sock_set_state/id",
		"/sys/kernel/debug/tracing/events/sock/inet_sock_set_state/id",
	};

	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		if (!access(probes[i], R_OK))
			return 0;
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL)) {
		int err = -errno;

		pr_err("tracefs is not mounted and mounting it failed (%s): "
		       "mount -t tracefs nodev /sys/kernel/tracing",
		       strerror(-err));
		return err;
	}
	pr_debug("mounted tracefs in a private mount namespace");
	return 0;
}

/*
 * Whether this kernel lets the programs read the preempt count and its count
 * of softirq runs (CTX_PREEMPT_COUNT in the BPF code): per-CPU variables
 * read as typed ksyms. Their type is in vmlinux BTF, but the verifier takes
 * their address from kallsyms, which lists per-CPU variables only with
 * CONFIG_KALLSYMS_ALL. A two-instruction program referencing each tells,
 * as libbpf probes features, before the real load.
 */
static bool ksym_loads(const struct btf *vmlinux, const char *name)
{
	int id = btf__find_by_name_kind(vmlinux, name, BTF_KIND_VAR), fd;
	struct bpf_insn insns[] = {
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1,
		  .src_reg = BPF_PSEUDO_BTF_ID, .imm = id },
		{ 0 }, /* the second half: imm 0 is vmlinux's BTF */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	if (id <= 0)
		return false;
	fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "tcpfsm_ksym", "GPL", insns,
			   sizeof(insns) / sizeof(insns[0]), NULL);
	if (fd < 0) {
		pr_debug("the preempt count cannot be read: %s is no usable ksym (%s)", name,
			 strerror(errno));
		return false;
	}
	close(fd);
	return true;
}

/*
 * Where the preempt count lives, as an offset into each CPU's per-CPU area:
 * the kallsyms address of __preempt_count, or of pcpu_hot plus its member's
 * offset (BTF); 0 if not found (no CONFIG_KALLSYMS_ALL, or addresses hidden
 * from us: kptr_restrict).
 */
static uint64_t preempt_count_offset(const struct btf *vmlinux)
{
	unsigned long long addr, pc = 0, hot = 0;
	char line[256], name[128];
	FILE *f = fopen("/proc/kallsyms", "r");
	bool shown = false;

	while (f && fgets(line, sizeof(line), f) && !pc) {
		if (sscanf(line, "%llx %*s %127s", &addr, name) != 2)
			continue;
		shown |= addr != 0;
		if (!strcmp(name, "__preempt_count"))
			pc = addr;
		else if (!strcmp(name, "pcpu_hot"))
			hot = addr;
	}
	if (f)
		fclose(f);
	if (pc)
		return pc;
	if (hot) {
		int id = btf__find_by_name_kind(vmlinux, "pcpu_hot", BTF_KIND_STRUCT);
		const struct btf_type *t = id > 0 ? btf__type_by_id(vmlinux, id) : NULL;
		const struct btf_member *m = t ? btf_members(t) : NULL;

		for (int i = 0; t && i < btf_vlen(t); i++, m++)
			if (!strcmp(btf__name_by_offset(vmlinux, m->name_off), "preempt_count"))
				return hot + btf_member_bit_offset(t, i) / 8;
	}
	if (!shown)
		pr_debug("the preempt count cannot be found: /proc/kallsyms shows us no addresses "
			 "(kptr_restrict; root or CAP_SYSLOG can read them)");
	else
		pr_debug("the preempt count cannot be found: not in kallsyms (the kernel lacks "
			 "CONFIG_KALLSYMS_ALL)");
	return 0;
}

/* The preempt count's per-CPU offset if the programs can read it, else 0. */
uint64_t probe_preempt_count(const struct tcpfsm_config *cfg)
{
#if defined(__x86_64__)
	struct btf *vmlinux;
	uint64_t off = 0;

	/* typed ksyms need the running kernel's own BTF */
	if (cfg->btf_path)
		return 0;
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return 0;
	if (ksym_loads(vmlinux, "this_cpu_off") && ksym_loads(vmlinux, "kstat"))
		off = preempt_count_offset(vmlinux);
	btf__free(vmlinux);
	return off;
#else
	/* only x86's per-CPU layout is written (and tested) so far */
	return 0;
#endif
}

/*
 * Whether this kernel allows tp_btf, asked before the real load (a failed
 * load is not retried another way): the tracepoint's BTF, as libbpf finds
 * it, and the helpers the state program calls from a tracing program
 * (socket storage: Linux 5.11), by loading one small program alone.
 */
bool probe_tp_btf(const struct tcpfsm_config *cfg, const char **why)
{
	struct tcpfsm_bpf *skel;
	struct bpf_program *prog;
	struct bpf_map *map;
	bool ok;

	/* tp_btf is attached through the running kernel's own BTF */
	if (cfg->btf_path) {
		*why = "--btf names another BTF than the kernel's";
		return false;
	}
	if (libbpf_find_vmlinux_btf_id("inet_sock_set_state", BPF_TRACE_RAW_TP) < 0) {
		*why = "the kernel's BTF has no inet_sock_set_state tracepoint";
		return false;
	}
	skel = tcpfsm_bpf__open();
	if (!skel) {
		*why = "cannot open the BPF object";
		return false;
	}
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, prog == skel->progs.probe_tp_btf);
	/* (global data too: libbpf binds .rodata to every program) */
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_autocreate(map, map == skel->maps.sk_infos ||
						     bpf_map__is_internal(map));
	ok = !tcpfsm_bpf__load(skel);
	tcpfsm_bpf__destroy(skel);
	if (!ok)
		*why = "tracing programs cannot use socket storage and cookies (Linux 5.12+)";
	return ok;
}

/* Whether evidence tracepoint tcp:name exists for this attach path. */
bool probe_hook(enum attach_mode mode, const char *name)
{
	char path[128];

	if (mode == ATTACH_TP_BTF)
		return libbpf_find_vmlinux_btf_id(name, BPF_TRACE_RAW_TP) >= 0;
	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/tcp/%s/id", name);
	if (!access(path, R_OK))
		return true;
	snprintf(path, sizeof(path), "/sys/kernel/debug/tracing/events/tcp/%s/id", name);
	return !access(path, R_OK);
}
