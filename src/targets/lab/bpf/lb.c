// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Socket-level service load balancing, shaped like Cilium's kube-proxy replacement
 * (bpf_sock.c): the destination is rewritten when the client calls connect()/sendmsg(), so
 * no packet ever carries the VIP and no NAT happens per packet. Map layout follows Cilium's
 * lb4 maps: slot 0 of a service key holds the backend count, slots 1..n hold backend ids.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

struct lb4_key {
	__u32 address;      /* VIP, network byte order */
	__u16 dport;        /* network byte order */
	__u16 backend_slot; /* 0 = service entry, 1..count = backends */
	__u8 proto;         /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 scope;
	__u8 pad[2];
};

struct lb4_service {
	__u32 backend_id; /* slot > 0: the backend; slot 0: unused */
	__u16 count;      /* slot 0: number of backends */
	__u16 rev_nat_index;
	__u8 flags;
	__u8 flags2;
	__u8 pad[2];
};

struct lb4_backend {
	__u32 address; /* network byte order */
	__u16 port;    /* network byte order */
	__u8 proto;
	__u8 flags;
};

struct sk_rev_key {
	__u64 cookie;
	__u32 address; /* backend, as recvmsg sees it */
	__u16 port;
	__u16 pad;
};

struct sk_rev_val {
	__u32 address; /* VIP */
	__u16 port;
	__u16 rev_nat_index;
};

/* 65k services x (1 + up to 8 backends); NO_PREALLOC so a small lab does not pin ~40 MB. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct lb4_key);
	__type(value, struct lb4_service);
	__uint(max_entries, 65536 * 9);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} lb4_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct lb4_backend);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} lb4_backends SEC(".maps");

/* Cilium's cilium_lb4_reverse_sk: lets recvmsg4 show the VIP as the UDP reply's source. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct sk_rev_key);
	__type(value, struct sk_rev_val);
	__uint(max_entries, 65536);
} lb4_reverse_sk SEC(".maps");

/* [0] = load-balancing decisions; per-CPU so counting never contends. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} lb_decisions SEC(".maps");

static __always_inline int lb4_xlate(struct bpf_sock_addr *ctx, int remember)
{
	struct lb4_key key = {
		.address = ctx->user_ip4,
		.dport = (__u16)ctx->user_port,
		.proto = (__u8)ctx->protocol,
	};
	struct lb4_service *svc = bpf_map_lookup_elem(&lb4_services, &key);
	if (!svc || svc->count == 0)
		return 0;
	key.backend_slot = (bpf_get_prandom_u32() % svc->count) + 1;
	struct lb4_service *slot = bpf_map_lookup_elem(&lb4_services, &key);
	if (!slot)
		return 0;
	__u32 id = slot->backend_id;
	struct lb4_backend *be = bpf_map_lookup_elem(&lb4_backends, &id);
	if (!be)
		return 0;

	if (remember) {
		struct sk_rev_key rk = {
			.cookie = bpf_get_socket_cookie(ctx),
			.address = be->address,
			.port = be->port,
		};
		struct sk_rev_val rv = {
			.address = ctx->user_ip4,
			.port = (__u16)ctx->user_port,
		};
		bpf_map_update_elem(&lb4_reverse_sk, &rk, &rv, BPF_ANY);
	}

	ctx->user_ip4 = be->address;
	ctx->user_port = be->port;

	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&lb_decisions, &zero);
	if (n)
		*n += 1;
	return 0;
}

SEC("cgroup/connect4")
int sock4_connect(struct bpf_sock_addr *ctx)
{
	/* A connected UDP socket receives replies from the backend: remember the VIP for it. */
	lb4_xlate(ctx, ctx->protocol == IPPROTO_UDP);
	return 1;
}

SEC("cgroup/sendmsg4")
int sock4_sendmsg(struct bpf_sock_addr *ctx)
{
	lb4_xlate(ctx, 1);
	return 1;
}

SEC("cgroup/recvmsg4")
int sock4_recvmsg(struct bpf_sock_addr *ctx)
{
	struct sk_rev_key rk = {
		.cookie = bpf_get_socket_cookie(ctx),
		.address = ctx->user_ip4,
		.port = (__u16)ctx->user_port,
	};
	struct sk_rev_val *rv = bpf_map_lookup_elem(&lb4_reverse_sk, &rk);
	if (rv) {
		ctx->user_ip4 = rv->address;
		ctx->user_port = rv->port;
	}
	return 1;
}

char _license[] SEC("license") = "Dual BSD/GPL";
