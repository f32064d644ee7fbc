// SPDX-License-Identifier: GPL-2.0
/*
 * Pause points: named places in the buffered I/O paths where a task can be
 * made to stop until a test releases it, so that a race is forced at one
 * exact interleaving instead of being hoped for with sleeps. Only with
 * CONFIG_IOMAP_RS_DEBUG; without it the callers compile to nothing.
 *
 * Each point is a file under /sys/kernel/debug/iomap_rs/pause/. Writing to it:
 *
 *   arm DEV INO START END [TIMEOUT_MS]
 *		The next task that reaches the point for inode INO of the
 *		filesystem whose st_dev is DEV (as stat(2) reports them), at a
 *		file offset in [START, END), parks there. One task per arming.
 *		A parked task releases itself after TIMEOUT_MS (default 10000)
 *		and counts a miss. EBUSY while a task is parked.
 *   wait [TIMEOUT_MS]
 *		Blocks until a task parked at the point (returns at once if
 *		one is parked); ETIMEDOUT after TIMEOUT_MS, by default the
 *		arming's timeout.
 *   release	Lets the parked task go and waits until it runs again;
 *		disarms the point if nothing parked.
 *
 * Reading it shows "armed=A parked=P pos=POS hits=H misses=M": hits counts
 * the tasks that parked, misses those that released themselves. Writing
 * "reset" clears both counts.
 *
 * A task parks with whatever locks its caller holds (a folio lock, i_rwsem,
 * the invalidate lock): that is the point. It waits on a completion, so
 * lockdep and the hung task detector see an ordinary sleep; the test must
 * only do things the held locks allow, or the timeout ends the wait.
 */
#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/iomap_rs.h>
#include <linux/kdev_t.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

struct pause_point {
	const char *name;
	spinlock_t lock;		/* protects everything below */
	bool armed;
	bool parked;
	dev_t dev;			/* the user encoding of st_dev */
	unsigned long ino;
	loff_t start, end;		/* half-open */
	loff_t pos;			/* where the parked task stopped */
	unsigned int timeout_ms;
	u64 hits, misses;
	struct completion parked_done;	/* a task parked */
	struct completion release;	/* the test lets it go */
	struct completion resumed;	/* it is running again */
};

static struct pause_point points[IOMAP_RS_NR_PAUSE_POINTS] = {
	[IOMAP_RS_PAUSE_WRITE_VALIDATE]		= { .name = "write_validate" },
	[IOMAP_RS_PAUSE_ZERO_VALIDATE]		= { .name = "zero_validate" },
	[IOMAP_RS_PAUSE_MKWRITE_VALIDATE]	= { .name = "mkwrite_validate" },
	[IOMAP_RS_PAUSE_RELEASE_PUNCH]		= { .name = "release_punch" },
	[IOMAP_RS_PAUSE_FS_MKWRITE_MAP]		= { .name = "fs_mkwrite_map" },
	[IOMAP_RS_PAUSE_FS_IOEND_CONVERT]	= { .name = "fs_ioend_convert" },
	[IOMAP_RS_PAUSE_FS_FSYNC_FLUSH]		= { .name = "fs_fsync_flush" },
	[IOMAP_RS_PAUSE_FS_STORE_EXTENTS]	= { .name = "fs_store_extents" },
	[IOMAP_RS_PAUSE_FS_EXTENT_LOCK_WAIT]	= { .name = "fs_extent_lock_wait" },
	[IOMAP_RS_PAUSE_FS_COMMIT_WAIT]		= { .name = "fs_commit_wait" },
};

/* Bit N set while point N is armed: read by callers without a call. */
unsigned long iomap_rs_pause_armed;
EXPORT_SYMBOL_GPL(iomap_rs_pause_armed);

void iomap_rs_pause(unsigned int point, struct inode *inode, loff_t pos)
{
	unsigned long timeout;
	struct pause_point *p;
	bool released;

	if (point >= IOMAP_RS_NR_PAUSE_POINTS)
		return;
	p = &points[point];
	spin_lock(&p->lock);
	if (!p->armed || p->ino != inode->i_ino ||
	    p->dev != new_encode_dev(inode->i_sb->s_dev) ||
	    pos < p->start || pos >= p->end) {
		spin_unlock(&p->lock);
		return;
	}
	p->armed = false;
	clear_bit(point, &iomap_rs_pause_armed);
	p->parked = true;
	p->pos = pos;
	p->hits++;
	spin_unlock(&p->lock);

	complete_all(&p->parked_done);
	timeout = msecs_to_jiffies(p->timeout_ms);
	released = wait_for_completion_timeout(&p->release, timeout);

	spin_lock(&p->lock);
	if (!released)
		p->misses++;
	p->parked = false;
	spin_unlock(&p->lock);
	complete_all(&p->resumed);
}
EXPORT_SYMBOL_GPL(iomap_rs_pause);

static int pause_arm(struct pause_point *p, const char *args)
{
	unsigned int major, minor, timeout_ms = 10000;
	unsigned long long dev;
	unsigned long ino;
	long long start, end;
	int n, ret = 0;

	n = sscanf(args, "%llu %lu %lld %lld %u", &dev, &ino, &start, &end,
		   &timeout_ms);
	if (n < 4 || start < 0 || end <= start || !timeout_ms ||
	    timeout_ms > 600000)
		return -EINVAL;
	major = MAJOR(new_decode_dev(dev));
	minor = MINOR(new_decode_dev(dev));
	if (new_encode_dev(MKDEV(major, minor)) != dev)
		return -EINVAL;

	spin_lock(&p->lock);
	if (p->parked) {
		ret = -EBUSY;
	} else {
		p->dev = dev;
		p->ino = ino;
		p->start = start;
		p->end = end;
		p->timeout_ms = timeout_ms;
		reinit_completion(&p->parked_done);
		reinit_completion(&p->release);
		reinit_completion(&p->resumed);
		p->armed = true;
		set_bit(p - points, &iomap_rs_pause_armed);
	}
	spin_unlock(&p->lock);
	return ret;
}

static int pause_wait(struct pause_point *p, const char *args)
{
	unsigned int timeout_ms = 0;
	unsigned long timeout;
	long left;

	if (*args && (kstrtouint(args, 10, &timeout_ms) || !timeout_ms ||
		      timeout_ms > 600000))
		return -EINVAL;

	spin_lock(&p->lock);
	if (!p->armed && !p->parked) {
		/* Parked and gone already, or never armed. */
		spin_unlock(&p->lock);
		return completion_done(&p->parked_done) ? 0 : -EINVAL;
	}
	if (!timeout_ms)
		timeout_ms = p->timeout_ms;
	spin_unlock(&p->lock);
	timeout = msecs_to_jiffies(timeout_ms);
	left = wait_for_completion_interruptible_timeout(&p->parked_done,
							 timeout);
	if (left < 0)
		return left;
	return left ? 0 : -ETIMEDOUT;
}

static int pause_release(struct pause_point *p)
{
	bool parked;

	spin_lock(&p->lock);
	if (p->armed) {
		p->armed = false;
		clear_bit(p - points, &iomap_rs_pause_armed);
	}
	parked = p->parked;
	spin_unlock(&p->lock);
	if (!parked)
		return 0;
	complete(&p->release);
	wait_for_completion(&p->resumed);
	return 0;
}

static ssize_t pause_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	struct pause_point *p = file_inode(file)->i_private;
	char buf[96];
	int ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	strim(buf);

	if (!strncmp(buf, "arm ", 4)) {
		ret = pause_arm(p, buf + 4);
	} else if (!strcmp(buf, "wait")) {
		ret = pause_wait(p, "");
	} else if (!strncmp(buf, "wait ", 5)) {
		ret = pause_wait(p, buf + 5);
	} else if (!strcmp(buf, "release")) {
		ret = pause_release(p);
	} else if (!strcmp(buf, "reset")) {
		spin_lock(&p->lock);
		p->hits = 0;
		p->misses = 0;
		spin_unlock(&p->lock);
		ret = 0;
	} else {
		ret = -EINVAL;
	}
	return ret ? ret : count;
}

static int pause_show(struct seq_file *m, void *v)
{
	struct pause_point *p = m->private;

	spin_lock(&p->lock);
	seq_printf(m, "armed=%d parked=%d pos=%lld hits=%llu misses=%llu\n",
		   p->armed, p->parked, p->pos, p->hits, p->misses);
	spin_unlock(&p->lock);
	return 0;
}

static int pause_open(struct inode *inode, struct file *file)
{
	return single_open(file, pause_show, inode->i_private);
}

static const struct file_operations pause_fops = {
	.owner		= THIS_MODULE,
	.open		= pause_open,
	.read		= seq_read,
	.write		= pause_write,
	.llseek		= seq_lseek,
	.release	= single_release,
};

void __init iomap_rs_pause_init(struct dentry *parent)
{
	struct dentry *dir = debugfs_create_dir("pause", parent);
	unsigned int i;

	for (i = 0; i < IOMAP_RS_NR_PAUSE_POINTS; i++) {
		struct pause_point *p = &points[i];

		spin_lock_init(&p->lock);
		init_completion(&p->parked_done);
		init_completion(&p->release);
		init_completion(&p->resumed);
		p->timeout_ms = 10000;
		debugfs_create_file(p->name, 0600, dir, p, &pause_fops);
	}
}
