/* loadgen RATE SECONDS WORKERS: WORKERS processes together make RATE
 * getppid() calls per second for SECONDS, paced in 1 ms steps
 * (clock_gettime through the vDSO, so the only syscalls are the getppid
 * calls and one nanosleep per idle millisecond). Prints "CALLS ELAPSED".
 * Used by scripts/bench-live.sh and scripts/soak.sh. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/mman.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: loadgen RATE SECONDS WORKERS\n");
		return 2;
	}
	double rate = atof(argv[1]), secs = atof(argv[2]);
	int workers = atoi(argv[3]);
	if (rate <= 0 || secs <= 0 || workers <= 0) {
		fprintf(stderr, "loadgen: RATE, SECONDS and WORKERS must be positive\n");
		return 2;
	}
	unsigned long *done = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (done == MAP_FAILED) {
		perror("loadgen: mmap");
		return 1;
	}
	double t0 = now();
	for (int w = 0; w < workers; w++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("loadgen: fork");
			return 1;
		}
		if (pid == 0) {
			double r = rate / workers, start = now(), end = start + secs;
			unsigned long n = 0;
			for (;;) {
				double t = now();
				if (t >= end)
					break;
				unsigned long target = (unsigned long)((t - start) * r) + 1;
				if (n >= target) {
					struct timespec d = {0, 1000000};
					nanosleep(&d, NULL);
					continue;
				}
				unsigned long chunk = target - n;
				if (chunk > 256)
					chunk = 256;
				for (unsigned long i = 0; i < chunk; i++)
					syscall(SYS_getppid);
				n += chunk;
			}
			__atomic_fetch_add(&done[0], n, __ATOMIC_RELAXED);
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	double el = now() - t0;
	printf("%lu %.3f\n", done[0], el);
	return 0;
}
