// The kernel floor of the CLI benchmark's work: what `aether apply` of the generated N-namespace topology makes,
// done with as few system calls as C allows, to show how much of Aether's time is the kernel's.
//
// Work: N named namespaces {P}{i} (two threads: unshare and bind mount on a file under /run/netns, the files made up
// front as names of one inode, as Aether does), a veth {P}h{i} <-> {P}n{i} from the host into each with the host end
// created up (one batch of requests on one socket), 10.200.x.y/30 on the host ends (one batch), then per namespace:
// a socket opened inside it, the peer's address, the peer up. No lo up, no ownership marks (Aether sets both ends'
// alias). Then, timed apart as observe_s, the floor of a no-op apply's reading: the host's links dumped, then per
// namespace its file opened, a socket opened inside it, its links and addresses dumped (statistics skipped, as Aether
// asks), both closed: the read-back the Go peer's observe phase does, one namespace after the other.
//
// With --marks, the floor of the same work with Aether's ownership marks, which the plain floor leaves out: each
// namespace's loopback gets an alias as it is made (on a socket opened inside it by its creating thread, kept for the
// per-namespace step as Aether keeps it, when a descriptor and a socket each fit the descriptor limit; otherwise
// closed and opened again there, as Aether's socket budget does), each host end an alias right after its creation in
// the same batch, each peer an alias in the request that sets it up. Everything else is the same; "peer" says
// "c-floor-marks".
//
// Usage (root): floor --n N --prefix P [--keep] [--settle SECONDS] [--marks]
//   prints {"peer":"c-floor","n":N,"converge_s":F,"observe_s":F,"teardown_s":F,"hostgone_s":F}: teardown_s is the unmount and
//   unlink of every namespace (the kernel then tears them down in the background), hostgone_s the time from the
//   teardown's start until the last host end is gone with its namespace (polled by name); --keep leaves the
//   namespaces for inspection (both are then 0; remove them with ip netns del).
// Build: gcc -O2 -pthread -o floor floor.c
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define THREADS 2
static int n;
static const char *prefix;
static int keep;
static double settle; // seconds between converge and observe, untimed (--settle)
static int marks;     // --marks: Aether's ownership marks too
static int *nsfd;
static int *nssock;   // with --marks, each namespace's socket, opened by its creating thread (-1: closed again)
static int keepsock;  // whether those sockets stay open until the per-namespace step (they fit the descriptor limit)
static char lomark[64], linkmark[64];
static int origin;
static char buf[1 << 22];

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what, const char *arg) {
    fprintf(stderr, "floor: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
    exit(1);
}

static void path_of(char *out, size_t len, int i) { snprintf(out, len, "/run/netns/%s%d", prefix, i); }

static void mark_loopback(int i);

static void *make_namespaces(void *arg) {
    char path[256];
    for (long i = (long)arg; i < n; i += THREADS) {
        path_of(path, sizeof path, (int)i);
        if (unshare(CLONE_NEWNET)) die("unshare", NULL);
        if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL)) die("mount", path);
        if ((nsfd[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0) die("open", path);
        if (marks) mark_loopback(i);
        if (setns(origin, CLONE_NEWNET)) die("setns", "origin");
    }
    return NULL;
}

static struct nlmsghdr *begin(int *off, int type, int flags, size_t fixed) {
    struct nlmsghdr *h = (struct nlmsghdr *)(buf + *off);
    memset(h, 0, NLMSG_SPACE(fixed));
    h->nlmsg_len = NLMSG_LENGTH(fixed);
    h->nlmsg_type = type;
    h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    return h;
}

static struct rtattr *put(struct nlmsghdr *h, int type, const void *data, int len) {
    struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
    a->rta_type = type;
    a->rta_len = RTA_LENGTH(len);
    if (len) memcpy(RTA_DATA(a), data, len);
    h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
    return a;
}

static void end_nest(struct nlmsghdr *h, struct rtattr *a) { a->rta_len = (char *)h + h->nlmsg_len - (char *)a; }

static void put_address(struct nlmsghdr *h, int index, int i, int host) {
    struct ifaddrmsg *a = NLMSG_DATA(h);
    a->ifa_family = AF_INET;
    a->ifa_prefixlen = 30;
    a->ifa_index = index;
    unsigned ip = htonl((10u << 24) | (200u << 16) | (unsigned)(4 * i + (host ? 1 : 2)));
    put(h, IFA_LOCAL, &ip, 4);
    put(h, IFA_ADDRESS, &ip, 4);
}

// Sends what is in buf and reads one acknowledgement per request; any error ends the program.
static void exchange(int s, int *off, int requests) {
    if (*off && send(s, buf, *off, 0) < 0) die("send", NULL);
    *off = 0;
    static char in[65536];
    for (int got = 0; got < requests;) {
        int r = recv(s, in, sizeof in, 0);
        if (r < 0) die("recv", NULL);
        for (struct nlmsghdr *h = (struct nlmsghdr *)in; NLMSG_OK(h, r); h = NLMSG_NEXT(h, r)) {
            if (h->nlmsg_type != NLMSG_ERROR) continue;
            struct nlmsgerr *e = NLMSG_DATA(h);
            if (e->error) { errno = -e->error; die("request", NULL); }
            got++;
        }
    }
}

// One dump: the request, then every part until NLMSG_DONE; returns the number of objects.
static int dump(int s, int type, size_t fixed) {
    int off = 0;
    struct nlmsghdr *h = begin(&off, type, 0, fixed);
    h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    if (type == RTM_GETLINK) {
        unsigned mask = RTEXT_FILTER_SKIP_STATS;
        put(h, IFLA_EXT_MASK, &mask, sizeof mask);
    }
    if (send(s, buf, h->nlmsg_len, 0) < 0) die("send", NULL);
    static char in[65536];
    for (int objects = 0;;) {
        int r = recv(s, in, sizeof in, 0);
        if (r < 0) die("recv", NULL);
        for (struct nlmsghdr *m = (struct nlmsghdr *)in; NLMSG_OK(m, r); m = NLMSG_NEXT(m, r)) {
            if (m->nlmsg_type == NLMSG_DONE) return objects;
            if (m->nlmsg_type == NLMSG_ERROR) { errno = -((struct nlmsgerr *)NLMSG_DATA(m))->error; die("dump", NULL); }
            objects++;
        }
    }
}

static int rtnl_socket(void) {
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (s < 0) die("socket", NULL);
    int size = 1 << 24;
    setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
    return s;
}

// --marks, in the creating thread, inside namespace i: a socket kept for later, and the loopback's alias. Each thread
// builds its request in a buffer of its own (buf is the main thread's).
static void mark_loopback(int i) {
    int s = nssock[i] = rtnl_socket();
    char out[256] __attribute__((aligned(4)));
    memset(out, 0, sizeof out);
    struct nlmsghdr *h = (struct nlmsghdr *)out;
    h->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
    h->nlmsg_type = RTM_NEWLINK;
    h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index = 1;
    put(h, IFLA_IFALIAS, lomark, strlen(lomark));
    if (send(s, out, h->nlmsg_len, 0) < 0) die("send", NULL);
    char in[1024];
    int r = recv(s, in, sizeof in, 0);
    struct nlmsghdr *reply = (struct nlmsghdr *)in;
    if (r < 0 || reply->nlmsg_type != NLMSG_ERROR) die("recv", NULL);
    int error = ((struct nlmsgerr *)NLMSG_DATA(reply))->error;
    if (error) { errno = -error; die("mark", "lo"); }
    if (!keepsock) { close(s); nssock[i] = -1; } // over the limit, as Aether's socket budget closes them: opened again later
}

int main(int argc, char **argv) {
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--keep")) keep = 1;
        else if (!strcmp(argv[a], "--n") && a + 1 < argc) n = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--prefix") && a + 1 < argc) prefix = argv[++a];
        else if (!strcmp(argv[a], "--settle") && a + 1 < argc) settle = atof(argv[++a]);
        else if (!strcmp(argv[a], "--marks")) marks = 1;
    }
    if (n <= 0 || !prefix || strlen(prefix) > 6) {
        fprintf(stderr, "usage: floor --n N --prefix P   (N>0, 1<=len(P)<=6)\n");
        return 2;
    }
    nsfd = calloc(n, sizeof *nsfd);
    nssock = calloc(n, sizeof *nssock);
    struct rlimit files;
    keepsock = getrlimit(RLIMIT_NOFILE, &files) == 0 && (rlim_t)2 * n + 64 <= files.rlim_cur; // a descriptor and a socket each
    snprintf(lomark, sizeof lomark, "aether-netns:%s-topology", prefix);
    snprintf(linkmark, sizeof linkmark, "aether:%s-topology", prefix);
    if ((origin = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) die("open", "/proc/self/ns/net");
    mkdir("/run/netns", 0755);

    double start = now();
    char path[256], anchor[256], name[IFNAMSIZ];
    path_of(anchor, sizeof anchor, 0);
    int fd = open(anchor, O_RDONLY | O_CREAT | O_EXCL, 0);
    if (fd < 0) die("create", anchor);
    close(fd);
    for (int i = 1; i < n; i++) {
        path_of(path, sizeof path, i);
        if (link(anchor, path)) die("link", path);
    }
    pthread_t threads[THREADS];
    for (long t = 0; t < THREADS; t++) pthread_create(&threads[t], NULL, make_namespaces, (void *)t);
    for (int t = 0; t < THREADS; t++) pthread_join(threads[t], NULL);

    int s = rtnl_socket(), off = 0, pending = 0;
    for (int i = 0; i < n; i++) {
        struct nlmsghdr *h = begin(&off, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
        struct ifinfomsg *ifi = NLMSG_DATA(h);
        ifi->ifi_flags = ifi->ifi_change = IFF_UP; // the host end; a peer cannot be set up before it is paired
        snprintf(name, sizeof name, "%sh%d", prefix, i);
        put(h, IFLA_IFNAME, name, strlen(name) + 1);
        struct rtattr *info = put(h, IFLA_LINKINFO, NULL, 0);
        put(h, IFLA_INFO_KIND, "veth", 4);
        struct rtattr *data = put(h, IFLA_INFO_DATA, NULL, 0);
        struct rtattr *peer = put(h, VETH_INFO_PEER, NULL, 0);
        h->nlmsg_len += sizeof(struct ifinfomsg); // the peer's (zeroed) ifinfomsg
        snprintf(name, sizeof name, "%sn%d", prefix, i);
        put(h, IFLA_IFNAME, name, strlen(name) + 1);
        put(h, IFLA_NET_NS_FD, &nsfd[i], 4);
        end_nest(h, peer);
        end_nest(h, data);
        end_nest(h, info);
        off += NLMSG_ALIGN(h->nlmsg_len);
        pending++;
        if (marks) { // the kernel takes no alias in a creation: the host end's, right after it
            snprintf(name, sizeof name, "%sh%d", prefix, i);
            h = begin(&off, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
            put(h, IFLA_IFNAME, name, strlen(name) + 1);
            put(h, IFLA_IFALIAS, linkmark, strlen(linkmark));
            off += NLMSG_ALIGN(h->nlmsg_len);
            pending++;
        }
        if (off > (int)sizeof buf - 4096) { exchange(s, &off, pending); pending = 0; }
    }
    exchange(s, &off, pending);
    pending = 0;
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%sh%d", prefix, i);
        put_address(begin(&off, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifaddrmsg)), if_nametoindex(name), i, 1);
        off += NLMSG_ALIGN(((struct nlmsghdr *)(buf + off))->nlmsg_len);
        pending++;
    }
    exchange(s, &off, pending);
    for (int i = 0; i < n; i++) {
        int inner = nssock[i];
        if (!marks || inner < 0) {
            if (setns(nsfd[i], CLONE_NEWNET)) die("setns", NULL);
            inner = rtnl_socket();
            if (setns(origin, CLONE_NEWNET)) die("setns", "origin");
        }
        snprintf(name, sizeof name, "%sn%d", prefix, i);
        struct nlmsghdr *h = begin(&off, RTM_GETLINK, 0, sizeof(struct ifinfomsg));
        h->nlmsg_flags = NLM_F_REQUEST;
        put(h, IFLA_IFNAME, name, strlen(name) + 1);
        if (send(inner, buf, h->nlmsg_len, 0) < 0) die("send", NULL);
        off = 0;
        static char in[8192];
        int r = recv(inner, in, sizeof in, 0);
        struct nlmsghdr *reply = (struct nlmsghdr *)in;
        if (r < 0 || reply->nlmsg_type != RTM_NEWLINK) { errno = ENODEV; die("find", name); }
        int index = ((struct ifinfomsg *)NLMSG_DATA(reply))->ifi_index;
        put_address(begin(&off, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifaddrmsg)), index, i, 0);
        off += NLMSG_ALIGN(((struct nlmsghdr *)buf)->nlmsg_len);
        h = begin(&off, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
        struct ifinfomsg *up = NLMSG_DATA(h);
        up->ifi_index = index;
        up->ifi_flags = up->ifi_change = IFF_UP;
        if (marks) put(h, IFLA_IFALIAS, linkmark, strlen(linkmark));
        off += NLMSG_ALIGN(h->nlmsg_len);
        exchange(inner, &off, 2);
        close(inner);
    }
    double converged = now();
    if (settle > 0) usleep((useconds_t)(settle * 1e6)); // untimed: the kernel's own work on the new links is done
    double observing = now();

    int seen = dump(s, RTM_GETLINK, sizeof(struct ifinfomsg));
    for (int i = 0; i < n; i++) {
        path_of(path, sizeof path, i);
        int ns = open(path, O_RDONLY | O_CLOEXEC);
        if (ns < 0 || setns(ns, CLONE_NEWNET)) die("enter", path);
        int inner = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (inner < 0) die("socket", NULL);
        if (setns(origin, CLONE_NEWNET)) die("setns", "origin");
        seen += dump(inner, RTM_GETLINK, sizeof(struct ifinfomsg)) + dump(inner, RTM_GETADDR, sizeof(struct ifaddrmsg));
        close(inner);
        close(ns);
    }
    double observed = now();
    if (seen < 4 * n) { errno = ENOENT; die("read back", "fewer objects than made"); }

    for (int i = 0; i < n && !keep; i++) {
        close(nsfd[i]);
        path_of(path, sizeof path, i);
        umount2(path, MNT_DETACH);
        if (unlink(path)) die("unlink", path);
    }
    double unmounted = now();
    for (int i = 0; i < n && !keep; i++) { // the kernel removes the host ends as it tears the namespaces down
        snprintf(name, sizeof name, "%sh%d", prefix, i);
        while (if_nametoindex(name) != 0) usleep(1000);
    }
    printf("{\"peer\":\"%s\",", marks ? "c-floor-marks" : "c-floor");
    printf("\"n\":%d,\"converge_s\":%.6f,\"observe_s\":%.6f,\"teardown_s\":%.6f,\"hostgone_s\":%.6f}\n", n,
           converged - start, observed - observing, keep ? 0 : unmounted - observed, keep ? 0 : now() - observed);
    return 0;
}
