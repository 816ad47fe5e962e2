// SPDX-License-Identifier: GPL-2.0-only
/*
 * ainka_consumer.ko - TEST ONLY. A minimal kernel consumer of ainka_core's
 * exported API, driven through /proc/ainka_consumer by the VM tests:
 *
 *   read                  "<key> <value>" or "<key> ENOENT", from
 *                         ainka_get_recommendation() at read time
 *   write "key K"         watch recommendation K instead
 *   write "event V"       ainka_register_event("ainka_consumer", 1, V)
 *   write "anomaly M V"   ainka_detect_anomaly(M, V); result in the next read
 *   write "predict M H"   ainka_request_prediction(M, H); seq in the next read
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>
#include <linux/mutex.h>
#include <linux/string.h>

#include "ainka.h"

static DEFINE_MUTEX(lock);
static char key[AINKA_REC_KEY_MAX] = "test.consumer";
static int last_anomaly = -1;
static s64 last_seq;

static int consumer_show(struct seq_file *m, void *v)
{
	s64 value;
	int err;

	mutex_lock(&lock);
	err = ainka_get_recommendation(key, &value);
	if (err)
		seq_printf(m, "%s ENOENT\n", key);
	else
		seq_printf(m, "%s %lld\n", key, value);
	seq_printf(m, "anomaly %d\npredict_seq %lld\nstate %u\n", last_anomaly,
		   last_seq, ainka_get_state());
	mutex_unlock(&lock);
	return 0;
}

static int consumer_open(struct inode *inode, struct file *file)
{
	return single_open(file, consumer_show, NULL);
}

static ssize_t consumer_write(struct file *file, const char __user *ubuf,
			      size_t len, loff_t *off)
{
	char buf[64], word[AINKA_REC_KEY_MAX];
	unsigned int a, b;
	long long v;
	int err = 0;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	mutex_lock(&lock);
	if (sscanf(buf, "key %31s", word) == 1)
		strscpy(key, word, sizeof(key));
	else if (sscanf(buf, "event %lld", &v) == 1)
		err = ainka_register_event(KBUILD_MODNAME, 1, v);
	else if (sscanf(buf, "anomaly %u %lld", &a, &v) == 2)
		err = last_anomaly = ainka_detect_anomaly(a, v);
	else if (sscanf(buf, "predict %u %u", &a, &b) == 2)
		err = (int)(last_seq = ainka_request_prediction(a, b));
	else
		err = -EINVAL;
	mutex_unlock(&lock);
	return err < 0 ? err : len;
}

static const struct proc_ops consumer_ops = {
	.proc_open = consumer_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
	.proc_write = consumer_write,
};

static struct proc_dir_entry *entry;

static int __init consumer_init(void)
{
	entry = proc_create("ainka_consumer", 0644, NULL, &consumer_ops);
	return entry ? 0 : -ENOMEM;
}

static void __exit consumer_exit(void)
{
	proc_remove(entry);
}

module_init(consumer_init);
module_exit(consumer_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("AINKA test-only consumer of the exported API");
