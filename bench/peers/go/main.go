// gonetlink-bench: benchmark peer using github.com/vishvananda/netlink and
// github.com/vishvananda/netns, written the way a typical Go user would.
//
// Workload (identical across all peers):
//
//	converge: for i in 0..N-1 create named netns {P}{i} (bind mount under
//	          /run/netns), veth {P}h{i} (host) <-> {P}n{i} (created directly
//	          inside the namespace), 10.200.x.y/30 on both ends, both ends up,
//	          lo up inside the namespace.
//	observe:  dump host links; per namespace dump links and addresses (all
//	          families); count {P}h* host links, {P}n{i} links in namespaces
//	          and IPv4 addresses inside 10.200.0.0/16.
//	teardown: delete every namespace like `ip netns del` (umount + unlink);
//	          the kernel cleans up asynchronously (teardown_s does not wait);
//	          hostgone_s is the time from the teardown's start until no host
//	          end {P}h{i} is left (host links polled every millisecond).
//
// Output: one JSON line on stdout.
//
// Build: bench/peers/go/build.sh [OUTPUT]   (GOPATH mode, Debian Go sources)
// Run:   gonetlink-bench --n N --prefix P   (as root)
//
// Debug: BENCH_STOP_BEFORE_TEARDOWN=1 stops the process (SIGSTOP) after observe
// so the state can be inspected; continue it with SIGCONT.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

type result struct {
	Peer      string  `json:"peer"`
	N         int     `json:"n"`
	ConvergeS float64 `json:"converge_s"`
	ObserveS  float64 `json:"observe_s"`
	TeardownS float64 `json:"teardown_s"`
	HostGoneS float64 `json:"hostgone_s"`
	HostLinks int     `json:"host_links"`
	NsLinks   int     `json:"ns_links"`
	NsAddrs   int     `json:"ns_addrs"`
	PeakRssKb int     `json:"peak_rss_kb"`
}

func nsName(p string, i int) string   { return fmt.Sprintf("%s%d", p, i) }
func hostName(p string, i int) string { return fmt.Sprintf("%sh%d", p, i) }
func peerName(p string, i int) string { return fmt.Sprintf("%sn%d", p, i) }

// addrs returns the host-side and namespace-side /30 addresses for index i.
func addrs(i int) (*netlink.Addr, *netlink.Addr) {
	base := 4 * i
	mask := net.CIDRMask(30, 32)
	h := &netlink.Addr{IPNet: &net.IPNet{IP: net.IPv4(10, 200, byte(base/256), byte(base%256+1)).To4(), Mask: mask}}
	n := &netlink.Addr{IPNet: &net.IPNet{IP: net.IPv4(10, 200, byte(base/256), byte(base%256+2)).To4(), Mask: mask}}
	return h, n
}

// createdNamespaces records what this process created so it can be cleaned up
// on failure.
var createdNamespaces []string

func converge(n int, prefix string, origin netns.NsHandle) error {
	for i := 0; i < n; i++ {
		name := nsName(prefix, i)

		// NewNamed unshares the calling (locked) thread into the new namespace
		// and bind-mounts it at /run/netns/<name>.
		newNs, err := netns.NewNamed(name)
		if err != nil {
			// NewNamed may have switched namespaces before failing.
			_ = netns.Set(origin)
			return fmt.Errorf("netns.NewNamed(%s): %w", name, err)
		}
		createdNamespaces = append(createdNamespaces, name)
		// Switch the thread back to the original (host) namespace.
		if err := netns.Set(origin); err != nil {
			newNs.Close()
			return fmt.Errorf("netns.Set(origin): %w", err)
		}

		if err := setupPair(prefix, i, newNs); err != nil {
			newNs.Close()
			return err
		}
		newNs.Close()
	}
	return nil
}

func setupPair(prefix string, i int, nsHandle netns.NsHandle) error {
	hName, pName := hostName(prefix, i), peerName(prefix, i)
	hAddr, nAddr := addrs(i)

	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: hName},
		PeerName:      pName,
		PeerNamespace: netlink.NsFd(int(nsHandle)),
	}
	if err := netlink.LinkAdd(veth); err != nil {
		return fmt.Errorf("LinkAdd(%s): %w", hName, err)
	}
	hostLink, err := netlink.LinkByName(hName)
	if err != nil {
		return fmt.Errorf("LinkByName(%s): %w", hName, err)
	}
	if err := netlink.AddrAdd(hostLink, hAddr); err != nil {
		return fmt.Errorf("AddrAdd(%s): %w", hName, err)
	}
	if err := netlink.LinkSetUp(hostLink); err != nil {
		return fmt.Errorf("LinkSetUp(%s): %w", hName, err)
	}

	// Namespace side through a handle bound to the namespace.
	h, err := netlink.NewHandleAt(nsHandle)
	if err != nil {
		return fmt.Errorf("NewHandleAt(%s): %w", nsName(prefix, i), err)
	}
	defer h.Close()

	peer, err := h.LinkByName(pName)
	if err != nil {
		return fmt.Errorf("LinkByName(%s): %w", pName, err)
	}
	if err := h.AddrAdd(peer, nAddr); err != nil {
		return fmt.Errorf("AddrAdd(%s): %w", pName, err)
	}
	if err := h.LinkSetUp(peer); err != nil {
		return fmt.Errorf("LinkSetUp(%s): %w", pName, err)
	}
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("LinkByName(lo) in %s: %w", nsName(prefix, i), err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("LinkSetUp(lo) in %s: %w", nsName(prefix, i), err)
	}
	return nil
}

func observe(n int, prefix string) (hostLinks, nsLinks, nsAddrs int, err error) {
	links, err := netlink.LinkList()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("LinkList(host): %w", err)
	}
	hp := prefix + "h"
	for _, l := range links {
		if strings.HasPrefix(l.Attrs().Name, hp) {
			hostLinks++
		}
	}

	_, pool, _ := net.ParseCIDR("10.200.0.0/16")
	for i := 0; i < n; i++ {
		name := nsName(prefix, i)
		want := peerName(prefix, i)
		nsh, err := netns.GetFromName(name)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("netns.GetFromName(%s): %w", name, err)
		}
		h, err := netlink.NewHandleAt(nsh)
		if err != nil {
			nsh.Close()
			return 0, 0, 0, fmt.Errorf("NewHandleAt(%s): %w", name, err)
		}
		ls, err := h.LinkList()
		if err != nil {
			h.Close()
			nsh.Close()
			return 0, 0, 0, fmt.Errorf("LinkList(%s): %w", name, err)
		}
		for _, l := range ls {
			if l.Attrs().Name == want {
				nsLinks++
			}
		}
		as, err := h.AddrList(nil, netlink.FAMILY_ALL)
		h.Close()
		nsh.Close()
		if err != nil {
			return 0, 0, 0, fmt.Errorf("AddrList(%s): %w", name, err)
		}
		for _, a := range as {
			if ip4 := a.IP.To4(); ip4 != nil && pool.Contains(ip4) {
				nsAddrs++
			}
		}
	}
	return hostLinks, nsLinks, nsAddrs, nil
}

func teardown() error {
	var errs []error
	remaining := createdNamespaces[:0]
	for _, name := range createdNamespaces {
		if err := netns.DeleteNamed(name); err != nil {
			errs = append(errs, fmt.Errorf("netns.DeleteNamed(%s): %w", name, err))
			remaining = append(remaining, name)
		}
	}
	createdNamespaces = remaining
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}

// awaitHostEndsGone polls the host's links until none named {P}h* is left:
// the kernel removes them as it tears the deleted namespaces down.
func awaitHostEndsGone(prefix string) error {
	deadline := time.Now().Add(600 * time.Second) // 10,000 namespaces take the kernel minutes
	for {
		links, err := netlink.LinkList()
		left := err != nil // a dump the teardown disturbed: look again
		for _, l := range links {
			if strings.HasPrefix(l.Attrs().Name, prefix+"h") {
				left = true
				break
			}
		}
		if !left {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("host ends still there 600 s after the teardown (last dump error: %v)", err)
		}
		time.Sleep(time.Millisecond)
	}
}

func vmHWM() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "VmHWM:") {
			fields := strings.Fields(line)
			if len(fields) >= 2 {
				v, _ := strconv.Atoi(fields[1])
				return v
			}
		}
	}
	return -1
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gonetlink-bench:", err)
	if len(createdNamespaces) > 0 {
		if terr := teardown(); terr != nil {
			fmt.Fprintln(os.Stderr, "gonetlink-bench: cleanup:", terr)
		}
	}
	os.Exit(1)
}

func main() {
	n := flag.Int("n", 0, "number of namespaces / veth pairs")
	prefix := flag.String("prefix", "", "unique object-name prefix (max 6 chars)")
	settle := flag.Duration("settle", 0, "pause between converge and observe, untimed: the kernel's own work on new links (IPv6 duplicate address detection) is done by then")
	flag.Parse()
	if *n <= 0 || *prefix == "" || len(*prefix) > 6 {
		fmt.Fprintln(os.Stderr, "usage: gonetlink-bench --n N --prefix P   (N>0, 1<=len(P)<=6)")
		os.Exit(2)
	}
	if len(hostName(*prefix, *n-1)) > 15 {
		fmt.Fprintln(os.Stderr, "gonetlink-bench: interface names would exceed 15 bytes")
		os.Exit(2)
	}
	if 4*(*n-1)/256 > 255 {
		fmt.Fprintln(os.Stderr, "gonetlink-bench: N too large for 10.200.0.0/16")
		os.Exit(2)
	}

	// Namespace switching is per OS thread: pin this goroutine to its thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	origin, err := netns.Get()
	if err != nil {
		fail(fmt.Errorf("netns.Get: %w", err))
	}
	defer origin.Close()

	res := result{Peer: "go-netlink", N: *n}

	t0 := time.Now()
	if err := converge(*n, *prefix, origin); err != nil {
		fail(err)
	}
	res.ConvergeS = time.Since(t0).Seconds()

	time.Sleep(*settle)
	t1 := time.Now()
	res.HostLinks, res.NsLinks, res.NsAddrs, err = observe(*n, *prefix)
	if err != nil {
		fail(err)
	}
	res.ObserveS = time.Since(t1).Seconds()

	// Debug aid (outside the timed phases): BENCH_STOP_BEFORE_TEARDOWN=1 makes
	// the process SIGSTOP itself so the converged state can be inspected; resume
	// it with SIGCONT.
	if os.Getenv("BENCH_STOP_BEFORE_TEARDOWN") == "1" {
		_ = syscall.Kill(os.Getpid(), syscall.SIGSTOP)
	}

	t2 := time.Now()
	if err := teardown(); err != nil {
		fail(err)
	}
	res.TeardownS = time.Since(t2).Seconds()
	if err := awaitHostEndsGone(*prefix); err != nil {
		fail(err)
	}
	res.HostGoneS = time.Since(t2).Seconds()

	res.PeakRssKb = vmHWM()

	if res.HostLinks != *n || res.NsLinks != *n || res.NsAddrs != *n {
		out, _ := json.Marshal(res)
		fmt.Fprintf(os.Stderr, "gonetlink-bench: count mismatch: %s\n", out)
		os.Exit(1)
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}
