/*
 * memadded PID... — the memory a group of processes adds to the host: the
 * resident pages they map that no process outside the group maps.
 *
 * VmRSS counts every resident page a process maps, so the C library's pages
 * (resident anyway for every other process that uses it) count once per
 * process, and a forked child counts the pages it shares with its parent
 * again.  Pss splits each shared page among its users, so it still charges
 * the group a share of libc.  This counts what the group's exit would free:
 * each physical page the group maps (/proc/PID/pagemap, root only), taken
 * once, if its mapping count (/proc/kpagecount) is no more than the group's
 * own mappings of it.  Mappings of devices (VM_IO, VM_PFNMAP: the hypervisor's
 * pages a device model maps) are not memory of the host and are skipped.
 *
 * Prints one line, sizes in KiB:
 *   "added=N anon=A file=F mapped=M" — added = anon + file: the pages only
 *   the group maps (anonymous, and file pages such as its own program's);
 *   mapped: every distinct resident page the group maps.
 * Exit status 0, or 1 with one line on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PM_PRESENT (1ull << 63)
#define PM_PFN_MASK ((1ull << 55) - 1)
#define KPF_ANON 12

struct pages {
	uint64_t *pfn;
	size_t n, cap;
};

static int fail(const char *what, const char *path)
{
	fprintf(stderr, "memadded: %s %s: %s\n", what, path, strerror(errno));
	return -1;
}

static int add_pfn(struct pages *p, uint64_t pfn)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 4096;
		uint64_t *n = realloc(p->pfn, cap * sizeof(*n));

		if (!n) {
			fprintf(stderr, "memadded: out of memory\n");
			return -1;
		}
		p->pfn = n;
		p->cap = cap;
	}
	p->pfn[p->n++] = pfn;
	return 0;
}

/* The resident pages of [start, end) in PID's pagemap. */
static int add_range(struct pages *p, int pagemap, uint64_t start, uint64_t end, long psz)
{
	uint64_t buf[512];

	for (uint64_t va = start; va < end;) {
		size_t want = (size_t)((end - va) / (uint64_t)psz);
		ssize_t got;

		if (want > 512)
			want = 512;
		got = pread(pagemap, buf, want * sizeof(buf[0]), (off_t)(va / (uint64_t)psz * 8));
		if (got <= 0)
			return got == 0 ? 0 : -1;
		for (size_t i = 0; i < (size_t)got / sizeof(buf[0]); i++)
			if ((buf[i] & PM_PRESENT) && (buf[i] & PM_PFN_MASK) &&
			    add_pfn(p, buf[i] & PM_PFN_MASK) != 0)
				return -2;
		va += (uint64_t)got / sizeof(buf[0]) * (uint64_t)psz;
	}
	return 0;
}

/* Every mapping of PID from its smaps (ranges and VmFlags). */
static int add_process(struct pages *p, const char *pid, long psz)
{
	char path[64], line[512];
	uint64_t start = 0, end = 0;
	bool have = false;
	FILE *smaps;
	int pagemap, rc = 0;

	snprintf(path, sizeof(path), "/proc/%s/smaps", pid);
	smaps = fopen(path, "re");
	if (!smaps)
		return fail("cannot open", path);
	snprintf(path, sizeof(path), "/proc/%s/pagemap", pid);
	pagemap = open(path, O_RDONLY | O_CLOEXEC);
	if (pagemap < 0) {
		fclose(smaps);
		return fail("cannot open", path);
	}
	while (rc == 0 && fgets(line, sizeof(line), smaps)) {
		uint64_t s, e;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " ", &s, &e) == 2) {
			start = s;
			end = e;
			have = true;
		} else if (have && strncmp(line, "VmFlags:", 8) == 0) {
			have = false;
			if (strstr(line, " io") || strstr(line, " pf"))
				continue;
			rc = add_range(p, pagemap, start, end, psz);
			if (rc == -1)
				fail("cannot read", path);
		}
	}
	close(pagemap);
	fclose(smaps);
	return rc == 0 ? 0 : -1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int read_u64(int fd, uint64_t index, uint64_t *out, const char *path)
{
	if (pread(fd, out, sizeof(*out), (off_t)(index * 8)) != (ssize_t)sizeof(*out))
		return fail("cannot read", path);
	return 0;
}

int main(int argc, char **argv)
{
	long psz = sysconf(_SC_PAGESIZE);
	struct pages p = {0};
	uint64_t anon = 0, file = 0, mapped = 0;
	int kcount, kflags, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: memadded PID...\n");
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		if (argv[i][strspn(argv[i], "0123456789")] != '\0' || !argv[i][0]) {
			fprintf(stderr, "memadded: '%s' is not a process id\n", argv[i]);
			return 1;
		}
		if (add_process(&p, argv[i], psz) != 0)
			return 1;
	}
	kcount = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);
	kflags = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (kcount < 0 || kflags < 0) {
		fail("cannot open", kcount < 0 ? "/proc/kpagecount" : "/proc/kpageflags");
		return 1;
	}
	qsort(p.pfn, p.n, sizeof(p.pfn[0]), cmp_u64);
	for (size_t i = 0; i < p.n && rc == 0;) {
		size_t j = i;
		uint64_t count, flags;

		while (j < p.n && p.pfn[j] == p.pfn[i])
			j++;
		mapped++;
		rc = read_u64(kcount, p.pfn[i], &count, "/proc/kpagecount");
		if (rc == 0)
			rc = read_u64(kflags, p.pfn[i], &flags, "/proc/kpageflags");
		if (rc == 0 && count <= j - i) {
			if (flags & (1ull << KPF_ANON))
				anon++;
			else
				file++;
		}
		i = j;
	}
	close(kcount);
	close(kflags);
	free(p.pfn);
	if (rc != 0)
		return 1;
	printf("added=%" PRIu64 " anon=%" PRIu64 " file=%" PRIu64 " mapped=%" PRIu64 "\n",
	       (anon + file) * (uint64_t)psz / 1024, anon * (uint64_t)psz / 1024,
	       file * (uint64_t)psz / 1024, mapped * (uint64_t)psz / 1024);
	return 0;
}
