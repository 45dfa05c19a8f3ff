// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A program that is not linked with libsoftiommu dlopen()s it (and with it
 * liburcu-memb) and runs read-side sections and a grace period on two
 * threads.  The library reaches its own thread-local state and liburcu's
 * with the initial-exec TLS model (src/base/rcu.h): that must still work
 * when the library is loaded after start-up (glibc's static TLS surplus).
 * Usage: dlopen PATH-TO-libsoftiommu.so.  Exit status 0 on success.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

static void (*p_lock)(void), (*p_unlock)(void);
static bool (*p_ongoing)(void);
static int (*p_sync)(void), (*p_release)(void);

static void *worker(void *arg)
{
	int i, *ok = arg;

	for (i = 0; i < 1000; i++) {
		p_lock();
		if (!p_ongoing())
			return NULL;
		p_unlock();
	}
	*ok = !p_ongoing() && p_release() == 0;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t tid;
	void *h;
	int ok = 0;

	if (argc != 2)
		return 2;
	h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	*(void **)&p_lock = dlsym(h, "siommu_read_lock");
	*(void **)&p_unlock = dlsym(h, "siommu_read_unlock");
	*(void **)&p_ongoing = dlsym(h, "siommu_read_ongoing");
	*(void **)&p_sync = dlsym(h, "siommu_synchronize");
	*(void **)&p_release = dlsym(h, "siommu_thread_release");
	if (!p_lock || !p_unlock || !p_ongoing || !p_sync || !p_release) {
		fprintf(stderr, "dlsym: %s\n", dlerror());
		return 1;
	}
	if (pthread_create(&tid, NULL, worker, &ok) || pthread_join(tid, NULL))
		return 1;
	p_lock();
	p_unlock();
	if (!ok || p_sync() != 0) {
		fprintf(stderr, "read-side sections or grace period failed\n");
		return 1;
	}
	return p_release() == 0 ? 0 : 1;
}
