/*
 * A stand-in for the kernel's WireGuard generic netlink family, for capturing what wg(8) sends and checking what it
 * makes of a reply, on a machine whose kernel has no WireGuard. Loaded into wg with LD_PRELOAD, it replaces wg's
 * NETLINK_GENERIC socket with one end of a unix socketpair and answers on the other end, as the kernel would:
 *
 *   CTRL_CMD_GETFAMILY "wireguard"  -> CTRL_CMD_NEWFAMILY (id STANDIN_FAMILY, version 1), then an ACK
 *   WG_CMD_SET_DEVICE               -> recorded, then an ACK
 *   WG_CMD_GET_DEVICE (dump)        -> recorded, then the messages in $STANDIN_REPLY (hex, '#' comments; their
 *                                      nlmsg_seq and nlmsg_pid are set to the request's), then NLMSG_DONE
 *
 * Every request wg sends is appended to $STANDIN_CAPTURE as one line of hex. See capture.sh.
 * Build: gcc -shared -fPIC -o genl-standin.so genl-standin.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define STANDIN_FAMILY 0x1c
#define STANDIN_PORTID 4242

static int app_fd = -1, kernel_fd = -1;

static void reply(const void *buf, size_t len) { send(kernel_fd, buf, len, 0); }

static void ack(const struct nlmsghdr *req, int error)
{
	char buf[64] = { 0 };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct nlmsgerr *err = (struct nlmsgerr *)(nlh + 1);
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(*err));
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED;
	nlh->nlmsg_seq = req->nlmsg_seq;
	nlh->nlmsg_pid = STANDIN_PORTID;
	err->error = -error;
	err->msg = *req;
	reply(buf, nlh->nlmsg_len);
}

static void record(const void *buf, size_t len)
{
	const char *path = getenv("STANDIN_CAPTURE");
	FILE *f = path ? fopen(path, "a") : NULL;
	if (!f)
		return;
	for (size_t i = 0; i < len; i++)
		fprintf(f, "%02x", ((const unsigned char *)buf)[i]);
	fputc('\n', f);
	fclose(f);
}

static void family(const struct nlmsghdr *req)
{
	char buf[128] = { 0 };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct genlmsghdr *genl = (struct genlmsghdr *)(nlh + 1);
	struct nlattr *a = (struct nlattr *)(genl + 1);
	genl->cmd = CTRL_CMD_NEWFAMILY;
	genl->version = 2;
	a->nla_type = CTRL_ATTR_FAMILY_ID;
	a->nla_len = NLA_HDRLEN + 2;
	*(uint16_t *)(a + 1) = STANDIN_FAMILY;
	a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	a->nla_type = CTRL_ATTR_FAMILY_NAME;
	a->nla_len = NLA_HDRLEN + 10;
	memcpy(a + 1, "wireguard", 10);
	a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	a->nla_type = CTRL_ATTR_VERSION;
	a->nla_len = NLA_HDRLEN + 4;
	*(uint32_t *)(a + 1) = 1;
	a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	nlh->nlmsg_len = (char *)a - buf;
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_seq = req->nlmsg_seq;
	nlh->nlmsg_pid = STANDIN_PORTID;
	reply(buf, nlh->nlmsg_len);
	ack(req, 0);
}

static void dump(const struct nlmsghdr *req)
{
	static unsigned char bytes[1 << 20];
	size_t n = 0;
	const char *path = getenv("STANDIN_REPLY");
	FILE *f = path ? fopen(path, "r") : NULL;
	if (!f) {
		ack(req, ENODEV);
		return;
	}
	int c, hi = -1, comment = 0;
	while ((c = fgetc(f)) != EOF && n < sizeof(bytes)) {
		if (c == '#')
			comment = 1;
		if (c == '\n')
			comment = 0;
		if (comment)
			continue;
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (v < 0)
			continue;
		if (hi < 0)
			hi = v;
		else
			bytes[n++] = (unsigned char)(hi << 4 | v), hi = -1;
	}
	fclose(f);
	for (size_t off = 0; off + NLMSG_HDRLEN <= n;) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)(bytes + off);
		nlh->nlmsg_seq = req->nlmsg_seq;
		nlh->nlmsg_pid = STANDIN_PORTID;
		reply(nlh, nlh->nlmsg_len); /* one message a datagram, as the kernel's dump parts may be */
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	char done[NLMSG_HDRLEN + 4] = { 0 };
	struct nlmsghdr *nlh = (struct nlmsghdr *)done;
	nlh->nlmsg_len = sizeof(done);
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = req->nlmsg_seq;
	nlh->nlmsg_pid = STANDIN_PORTID;
	reply(done, sizeof(done));
}

int socket(int domain, int type, int protocol)
{
	static int (*real)(int, int, int);
	if (!real)
		real = dlsym(RTLD_NEXT, "socket");
	if (domain != AF_NETLINK || protocol != NETLINK_GENERIC)
		return real(domain, type, protocol);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return -1;
	app_fd = sv[0];
	kernel_fd = sv[1];
	return app_fd;
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	static int (*real)(int, const struct sockaddr *, socklen_t);
	if (!real)
		real = dlsym(RTLD_NEXT, "bind");
	return fd == app_fd ? 0 : real(fd, addr, len);
}

int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	static int (*real)(int, struct sockaddr *, socklen_t *);
	if (!real)
		real = dlsym(RTLD_NEXT, "getsockname");
	if (fd != app_fd)
		return real(fd, addr, len);
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK, .nl_pid = STANDIN_PORTID };
	memcpy(addr, &nl, sizeof(nl));
	*len = sizeof(nl);
	return 0;
}

int setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
	static int (*real)(int, int, int, const void *, socklen_t);
	if (!real)
		real = dlsym(RTLD_NEXT, "setsockopt");
	return fd == app_fd ? 0 : real(fd, level, name, value, len);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr, socklen_t alen)
{
	static ssize_t (*real)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	if (!real)
		real = dlsym(RTLD_NEXT, "sendto");
	if (fd != app_fd)
		return real(fd, buf, len, flags, addr, alen);
	record(buf, len);
	for (size_t off = 0; off + NLMSG_HDRLEN <= len;) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)((const char *)buf + off);
		const struct genlmsghdr *genl = (const struct genlmsghdr *)(nlh + 1);
		if (nlh->nlmsg_type == GENL_ID_CTRL)
			family(nlh);
		else if (nlh->nlmsg_type == STANDIN_FAMILY && genl->cmd == 0)
			dump(nlh);
		else
			ack(nlh, 0);
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	return (ssize_t)len;
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	static ssize_t (*real)(int, struct msghdr *, int);
	if (!real)
		real = dlsym(RTLD_NEXT, "recvmsg");
	if (fd != app_fd)
		return real(fd, msg, flags);
	void *name = msg->msg_name;
	msg->msg_name = NULL;
	msg->msg_namelen = 0;
	ssize_t n = real(fd, msg, flags);
	msg->msg_name = name;
	if (name) {
		struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
		memcpy(name, &nl, sizeof(nl));
		msg->msg_namelen = sizeof(nl);
	}
	return n;
}

int close(int fd)
{
	static int (*real)(int);
	if (!real)
		real = dlsym(RTLD_NEXT, "close");
	if (fd == app_fd && app_fd >= 0) {
		real(kernel_fd);
		app_fd = kernel_fd = -1;
	}
	return real(fd);
}
