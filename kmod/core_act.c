// SPDX-License-Identifier: GPL-2.0-only
/*
 * core_act.c - actuations: the renice of a task and the readahead of a block
 * device, each journaled (struct ainka_act) with the value it replaced so
 * that a rule's recovery, a netlink restore and unload put it back.
 */
#include "core.h"

static struct block_device *ainka_bdev_open(dev_t dev, void **handle)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	struct file *f = bdev_file_open_by_dev(dev, BLK_OPEN_READ, NULL, NULL);

	if (IS_ERR(f))
		return ERR_CAST(f);
	*handle = f;
	return file_bdev(f);
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
	struct bdev_handle *h = bdev_open_by_dev(dev, BLK_OPEN_READ, NULL, NULL);

	if (IS_ERR(h))
		return ERR_CAST(h);
	*handle = h;
	return h->bdev;
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	*handle = NULL;
	return blkdev_get_by_dev(dev, BLK_OPEN_READ, NULL, NULL);
#else
	*handle = NULL;
	return blkdev_get_by_dev(dev, FMODE_READ, NULL);
#endif
}

static void ainka_bdev_close(struct block_device *bdev, void *handle)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	fput(handle);
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
	bdev_release(handle);
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	blkdev_put(bdev, NULL);
#else
	blkdev_put(bdev, FMODE_READ);
#endif
}

/* Swap the device's readahead; *prev gets the old value in pages. */
static int ainka_set_readahead(dev_t dev, s64 pages, s64 *prev)
{
	struct block_device *bdev;
	void *handle;

	bdev = ainka_bdev_open(dev, &handle);
	if (IS_ERR(bdev))
		return PTR_ERR(bdev);
	*prev = READ_ONCE(bdev->bd_disk->bdi->ra_pages);
	WRITE_ONCE(bdev->bd_disk->bdi->ra_pages, (unsigned long)pages);
	ainka_bdev_close(bdev, handle);
	return 0;
}

/* The user thread, outside the caller's own thread group, that is
 * runnable now and has consumed the most CPU; else the biggest consumer. */
struct pid *ainka_top_consumer(void)
{
	struct task_struct *g, *t, *best = NULL;
	bool best_running = false;
	struct pid *pid = NULL;

	rcu_read_lock();
	for_each_process_thread(g, t) {
		bool running;

		if (t->flags & (PF_KTHREAD | PF_EXITING) || !t->mm)
			continue;
		if (same_thread_group(t, current))
			continue;
		running = task_is_running(t);
		if (!best || (running && !best_running) ||
		    (running == best_running &&
		     t->se.sum_exec_runtime > best->se.sum_exec_runtime)) {
			best = t;
			best_running = running;
		}
	}
	if (best)
		pid = get_pid(task_pid(best));
	rcu_read_unlock();
	return pid;
}

static struct ainka_act *act_find(u32 kind, struct pid *pid, dev_t dev)
{
	struct ainka_act *a;

	list_for_each_entry(a, &ainka_acts, list)
		if (a->kind == kind && a->pid == pid && a->dev == dev)
			return a;
	return NULL;
}

/* Apply one actuation and record the value to restore. The first
 * recorded previous value of a target wins, so stacked actuations all
 * roll back to the original. Consumes the pid reference. */
int ainka_actuate_locked(u32 kind, struct pid *pid, dev_t dev,
				s64 value, u32 rule_id, s64 *prev_out,
				struct netlink_ext_ack *extack)
{
	struct ainka_act *a;
	s64 prev;
	int err;

	lockdep_assert_held(&ainka_mutex);
	if (kind == AINKA_ACTION_RENICE) {
		struct task_struct *task = get_pid_task(pid, PIDTYPE_PID);

		if (!task) {
			NL_SET_ERR_MSG_MOD(extack, "no such process");
			put_pid(pid);
			return -ESRCH;
		}
		if (task->flags & PF_KTHREAD) {
			NL_SET_ERR_MSG_MOD(extack, "refusing to renice a kernel thread");
			put_task_struct(task);
			put_pid(pid);
			return -EPERM;
		}
		prev = task_nice(task);
		set_user_nice(task, value);
		put_task_struct(task);
	} else {
		err = ainka_set_readahead(dev, value, &prev);
		if (err) {
			NL_SET_ERR_MSG_MOD(extack, "cannot open the block device");
			return err;
		}
	}
	*prev_out = prev;
	a = act_find(kind, pid, dev);
	if (a) {
		a->cur = value;
		put_pid(pid);
		return 0;
	}
	a = ainka_zalloc(sizeof(*a), GFP_KERNEL);
	if (!a) {
		/* Cannot record: undo rather than leave an unrestorable change. */
		if (kind == AINKA_ACTION_RENICE) {
			struct task_struct *task = get_pid_task(pid, PIDTYPE_PID);

			if (task) {
				set_user_nice(task, prev);
				put_task_struct(task);
			}
		} else {
			ainka_set_readahead(dev, prev, &prev);
		}
		put_pid(pid);
		return -ENOMEM;
	}
	a->kind = kind;
	a->pid = pid;
	a->dev = dev;
	a->prev = prev;
	a->cur = value;
	a->rule_id = rule_id;
	list_add_tail(&a->list, &ainka_acts);
	nr_acts++;
	return 0;
}

static void act_restore_one(struct ainka_act *a)
{
	s64 ignored;

	if (a->kind == AINKA_ACTION_RENICE) {
		struct task_struct *task = get_pid_task(a->pid, PIDTYPE_PID);

		if (task) {
			set_user_nice(task, a->prev);
			put_task_struct(task);
		}
		put_pid(a->pid);
	} else if (ainka_set_readahead(a->dev, a->prev, &ignored)) {
		pr_warn("cannot restore readahead of %u:%u (device gone)\n",
			MAJOR(a->dev), MINOR(a->dev));
	}
	list_del(&a->list);
	nr_acts--;
	ainka_free(a);
}

/* Restore the actuations of one rule, or every one when all is set. */
void ainka_restore_locked(bool all, u32 rule_id)
{
	struct ainka_act *a, *tmp;

	lockdep_assert_held(&ainka_mutex);
	list_for_each_entry_safe_reverse(a, tmp, &ainka_acts, list)
		if (all || a->rule_id == rule_id)
			act_restore_one(a);
}
