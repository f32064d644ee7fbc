// SPDX-License-Identifier: GPL-2.0
/*
 * logwrites_replay: replay a dm-log-writes log (drivers/md/dm-log-writes.c)
 * onto a device one entry at a time, and run a check at every point a
 * power failure could leave the device in.
 *
 *   logwrites_replay [-c CMD] [-m MARKS] [-s MARK] [-b SEED] LOG DEV
 *
 * dm-log-writes logs a write only once a flush has covered it (or as it
 * completes, for FUA), so the log is an order in which the writes could
 * have reached the media. The points checked:
 *   - every FLUSH: the state that flush made durable (before the data of a
 *     flush that carries data);
 *   - every FUA write, once applied;
 *   - with -b SEED, one point chosen at random inside every run of two or
 *     more writes between those: a power failure in the middle, with some
 *     of the writes on the media and not the others;
 *   - every mark (always): what the workload did before it asked for the
 *     mark (an fsync that returned, say) must be on the media by then, and
 *     writes that only a later flush covered are not;
 *   - the end of the log (always).
 * Any other point whose state equals the last one checked (no write in
 * between) is skipped. Nothing is checked before the mark -s MARK (say, the end of
 * mkfs). At a point, DEV is synced and CMD runs through sh -c with
 * LOGWRITES_ENTRY (the entry's index), LOGWRITES_KIND (flush, fua, between,
 * mark or end) and LOGWRITES_POINT (the point's ordinal, from 0); if it fails,
 * replay stops there (DEV holds that state) and the exit status is 2. Each
 * mark passed is appended to the file MARKS, one per line, before the next
 * check. Discards are replayed as zeroes.
 */

#include <getopt.h>
#include <inttypes.h>
#include <sys/wait.h>

#include "progs.h"

#define LOG_FLUSH_FLAG		(1 << 0)
#define LOG_FUA_FLAG		(1 << 1)
#define LOG_DISCARD_FLAG	(1 << 2)
#define LOG_MARK_FLAG		(1 << 3)
#define WRITE_LOG_MAGIC		0x6a736677736872ULL
#define WRITE_LOG_VERSION	1ULL

/* The log's layout: struct log_write_super and log_write_entry, little endian. */
struct log_super {
	uint64_t magic;
	uint64_t version;
	uint64_t nr_entries;
	uint32_t sectorsize;
} __packed;

struct log_entry {
	uint64_t sector;
	uint64_t nr_sectors;
	uint64_t flags;
	uint64_t data_len;
} __packed;

struct entry {
	uint64_t log_off;	/* byte offset of the entry's header in LOG */
	struct log_entry e;
	int between;		/* a random point after this write */
};

static const char *check_cmd;
static const char *marks_path;
static unsigned long points, by_kind[5];
static const char *const kinds[] = { "flush", "fua", "between", "end", "mark" };

/*
 * Runs the check with the replay device closed (a kernel that refuses to
 * mount a device open for writing elsewhere would refuse it), and reopens it.
 */
static void check(size_t index, int kind, int *dev, const char *dev_path)
{
	char buf[32];
	int status;

	if (fsync(*dev) || close(*dev))
		die("fsync of the replay device");
	if (check_cmd) {
		snprintf(buf, sizeof(buf), "%zu", index);
		setenv("LOGWRITES_ENTRY", buf, 1);
		setenv("LOGWRITES_KIND", kinds[kind], 1);
		snprintf(buf, sizeof(buf), "%lu", points);
		setenv("LOGWRITES_POINT", buf, 1);
		fflush(stdout);
		status = system(check_cmd);
		if (status == -1)
			die("system");
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			printf("the point's command failed at entry %zu (%s, point %lu)\n",
			       index, kinds[kind], points);
			exit(2);
		}
	}
	*dev = open(dev_path, O_WRONLY);
	if (*dev < 0)
		die(dev_path);
	points++;
	by_kind[kind]++;
}

static void read_exact(int fd, void *buf, size_t len, uint64_t off, const char *what)
{
	ssize_t n = pread(fd, buf, len, off);

	if (n < 0)
		die(what);
	if ((size_t)n != len) {
		fprintf(stderr, "%s: short read at %" PRIu64 "\n", what, off);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	const char *start_mark = NULL, *dev_path;
	uint64_t seed = 0, off, ss, nr, i, log_bytes, dev_bytes;
	unsigned long writes = 0, flushes = 0, fuas = 0, discards = 0, marks = 0;
	struct log_super super;
	struct entry *entries;
	size_t *run, run_len = 0, bufsize = 1 << 20;
	int log, dev, opt, checking, dirty = 0, marks_fd = -1;
	char *buf, *sector;

	while ((opt = getopt(argc, argv, "c:m:s:b:")) != -1) {
		switch (opt) {
		case 'c':
			check_cmd = optarg;
			break;
		case 'm':
			marks_path = optarg;
			break;
		case 's':
			start_mark = optarg;
			break;
		case 'b':
			seed = strtoull(optarg, NULL, 0) | 1;
			break;
		default:
			fprintf(stderr,
				"usage: %s [-c CMD] [-m MARKS] [-s MARK] [-b SEED] LOG DEV\n",
				argv[0]);
			return 1;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: %s [-c CMD] [-m MARKS] [-s MARK] [-b SEED] LOG DEV\n",
			argv[0]);
		return 1;
	}
	log = open(argv[optind], O_RDONLY);
	if (log < 0)
		die(argv[optind]);
	dev_path = argv[optind + 1];
	dev = open(dev_path, O_WRONLY);
	if (dev < 0)
		die(dev_path);
	log_bytes = lseek(log, 0, SEEK_END);
	dev_bytes = lseek(dev, 0, SEEK_END);
	if (log_bytes == (uint64_t)-1 || dev_bytes == (uint64_t)-1)
		die("lseek");
	if (marks_path) {
		marks_fd = open(marks_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
		if (marks_fd < 0)
			die(marks_path);
	}

	read_exact(log, &super, sizeof(super), 0, "log super");
	if (super.magic != WRITE_LOG_MAGIC || super.version != WRITE_LOG_VERSION) {
		fprintf(stderr,
			"%s: not a dm-log-writes log (magic %#" PRIx64
			", version %" PRIu64 ")\n",
			argv[optind], super.magic, super.version);
		return 1;
	}
	ss = super.sectorsize;
	nr = super.nr_entries;
	if (ss < 512 || ss > 65536 || (ss & (ss - 1))) {
		fprintf(stderr, "log: bad sector size %" PRIu64 "\n", ss);
		return 1;
	}
	if (nr > log_bytes / ss) {
		fprintf(stderr, "log: %" PRIu64 " entries do not fit it\n", nr);
		return 1;
	}
	entries = calloc(nr ? nr : 1, sizeof(*entries));
	/* A mark's text is NUL-terminated in place: one byte more. */
	sector = malloc(ss + 1);
	run = calloc(nr ? nr : 1, sizeof(*run));
	buf = malloc(bufsize);
	if (!entries || !run || !sector || !buf)
		die("malloc");

	/*
	 * First pass: where each entry is, and the random points. A run is the
	 * writes since the last flush or FUA; a point after its last write
	 * would equal the flush that ends it.
	 */
	off = ss;
	for (i = 0; i < nr; i++) {
		struct log_entry *e = &entries[i].e;

		read_exact(log, sector, ss, off, "log entry");
		memcpy(e, sector, sizeof(*e));
		entries[i].log_off = off;
		off += ss;
		/* Every write within the device, every entry within the log. */
		if (!(e->flags & LOG_MARK_FLAG) &&
		    (e->nr_sectors > dev_bytes / ss || e->sector > dev_bytes / ss ||
		     e->sector + e->nr_sectors > dev_bytes / ss)) {
			fprintf(stderr, "log entry %" PRIu64 ": beyond the device\n", i);
			return 1;
		}
		if (!(e->flags & (LOG_DISCARD_FLAG | LOG_MARK_FLAG)))
			off += e->nr_sectors * ss;
		if (off > log_bytes) {
			fprintf(stderr, "log entry %" PRIu64 ": beyond the log\n", i);
			return 1;
		}
		if (e->flags & (LOG_FLUSH_FLAG | LOG_FUA_FLAG) || i + 1 == nr) {
			if (seed && run_len >= 2)
				entries[run[xorshift64star(&seed) % (run_len - 1)]].between = 1;
			run_len = 0;
		}
		if (!(e->flags & LOG_MARK_FLAG) && e->nr_sectors &&
		    !(e->flags & (LOG_FLUSH_FLAG | LOG_FUA_FLAG)))
			run[run_len++] = i;
	}

	/* Second pass: apply each entry, checking where the first pass said. */
	checking = !start_mark;
	for (i = 0; i < nr; i++) {
		struct log_entry *e = &entries[i].e;
		uint64_t len = e->nr_sectors * ss, pos = e->sector * ss, done;

		if (e->flags & LOG_MARK_FLAG) {
			size_t n = e->data_len;

			read_exact(log, sector, ss, entries[i].log_off, "log mark");
			if (n > ss - sizeof(*e))
				n = ss - sizeof(*e);
			sector[sizeof(*e) + n] = '\0';
			n = strlen(sector + sizeof(*e));
			marks++;
			if (marks_fd >= 0 &&
			    (write(marks_fd, sector + sizeof(*e), n) != (ssize_t)n ||
			     write(marks_fd, "\n", 1) != 1))
				die(marks_path);
			if (checking) {
				check(i, 4, &dev, dev_path);
				dirty = 0;
			}
			if (start_mark && !strcmp(sector + sizeof(*e), start_mark))
				checking = 1;
			continue;
		}
		if (e->flags & LOG_FLUSH_FLAG) {
			flushes++;
			if (checking && dirty) {
				check(i, 0, &dev, dev_path);
				dirty = 0;
			}
		}
		if (!len)
			continue;
		if (e->flags & LOG_DISCARD_FLAG) {
			discards++;
			memset(buf, 0, bufsize);
		} else {
			writes++;
		}
		for (done = 0; done < len;) {
			size_t n = len - done < bufsize ? len - done : bufsize;

			if (!(e->flags & LOG_DISCARD_FLAG))
				read_exact(log, buf, n, entries[i].log_off + ss + done, "log data");
			if (pwrite(dev, buf, n, pos + done) != (ssize_t)n)
				die("write to the replay device");
			done += n;
		}
		dirty = 1;
		if (e->flags & LOG_FUA_FLAG) {
			fuas++;
			if (checking) {
				check(i, 1, &dev, dev_path);
				dirty = 0;
			}
		} else if (entries[i].between && checking) {
			check(i, 2, &dev, dev_path);
			dirty = 0;
		}
	}
	if (checking)
		check(nr ? nr - 1 : 0, 3, &dev, dev_path);
	if (start_mark && !checking) {
		fprintf(stderr, "log: no mark \"%s\"\n", start_mark);
		return 1;
	}
	printf("%" PRIu64 " entries: %lu writes, %lu flushes, %lu FUA, %lu discards, %lu marks; "
	       "%lu points checked: %lu after a flush, %lu after a FUA write, %lu between, %lu at a mark, %lu at the end\n",
	       nr, writes, flushes, fuas, discards, marks, points,
	       by_kind[0], by_kind[1], by_kind[2], by_kind[4], by_kind[3]);
	return 0;
}
