// tunrelay: the zero-work ceiling for any TUN engine. Copies every packet from one TUN device to another
// and back, doing nothing else (one read and one write per packet, as any engine must at least do).
//
//   tunrelay NETNS_A TUN_A NETNS_B TUN_B     (root; each TUN is opened inside its named network namespace)
//
// Build: cc -O2 -o tunrelay tunrelay.c. Stops on SIGINT/SIGTERM.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int open_tun_in(const char *netns, const char *name) {
    char path[256];
    snprintf(path, sizeof path, "/run/netns/%s", netns);
    int ns = open(path, O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
        perror(path);
        return -1;
    }
    close(ns);
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        perror("/dev/net/tun");
        return -1;
    }
    struct ifreq req;
    memset(&req, 0, sizeof req);
    req.ifr_flags = IFF_TUN | IFF_NO_PI;
    strncpy(req.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &req) < 0) {
        perror(name);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s NETNS_A TUN_A NETNS_B TUN_B\n", argv[0]);
        return 2;
    }
    int fds[2] = {open_tun_in(argv[1], argv[2]), open_tun_in(argv[3], argv[4])};
    if (fds[0] < 0 || fds[1] < 0) return 1;
    struct pollfd polls[2] = {{.fd = fds[0], .events = POLLIN}, {.fd = fds[1], .events = POLLIN}};
    static char packet[65536];
    for (;;) {
        if (poll(polls, 2, -1) < 0) {
            if (errno == EINTR) continue;
            perror("poll");
            return 1;
        }
        for (int side = 0; side < 2; side++) {
            if (!(polls[side].revents & POLLIN)) continue;
            ssize_t len = read(fds[side], packet, sizeof packet);
            // A failed write is a dropped packet, as on a full queue; TCP retransmits.
            if (len > 0 && write(fds[1 - side], packet, (size_t)len) < 0 && errno != EAGAIN) perror("write");
        }
    }
}
