/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seed002.pml: draining a PASID's page requests and responses on detach,
 * then reusing the PASID (seed 002: iopf_queue_flush_dev() flushing the
 * workqueue only; the review: "just flushing requests is probably
 * insufficient ... drain both requests and responses", "drain the partial
 * list and the response pending list ... page response from upper layer
 * will be dropped").
 *
 * Code modelled: src/iopf/iopf.c — siommu_iopf_report() (refused while a
 * drain of the PASID runs, else into the PRQ), the worker's
 * iopf_pop_locked() + iopf_file_locked() (pop, look the domain up and put
 * the group on the pending list, in one critical section of the PRQ and
 * device locks and one read-side section), iopf_dispatch() (the group goes
 * to its domain's handler: here a fault queue whose consumer answers by
 * cookie, maybe late, maybe never), siommu_iopf_group_respond() (delivered
 * only if the group is still pending), and iopf_drain_fd() as the layer's
 * commit runs it after the core's switch and grace period (refuse new
 * requests, purge the PRQ, wait for handler calls, wait a bounded time for
 * answers, answer the rest Invalid).  docs/modules/iopf.md, "Drain".
 *
 * Abstraction.  One device, one PASID, one PRG index (every group of the
 * PASID uses it, as a device reusing the index for its next user does).
 * The PASID has two users: epoch 1 on domain A (a fault queue), then,
 * after a detach and a new attach, epoch 2 on domain B (answers at once).
 * Requests and groups carry their epoch as a ghost.  The device sends up to
 * N1 requests (each L = 1) in epoch 1, racing the detach, then stops (as a
 * Stop Marker says); the PASID is given to its next user only after that
 * and once the PRQ is empty; then the device sends one request of epoch 2.
 * The device lock and the PRQ lock are atomic blocks; RCU as in
 * seed000.pml.  Memory is sequentially consistent.
 *
 * Properties (assertions):
 *   P1  no response of epoch 1 reaches the device once it works for the
 *       PASID's next user (a stale response would tell it a page is there);
 *   P2  no group is answered twice;
 *   P3  when everything is over, every group was answered exactly once.
 *
 * Broken variants (spin -D...), each of which spin must refute:
 *   NAIVE        the drain flushes requests only (the seed's first patch):
 *                a group the fault queue holds stays pending, and its late
 *                answer reaches the next user: P1 (or P3 if never answered);
 *   DRAIN_FIRST  the drain runs before the switch (in prepare instead of
 *                commit): a request filed in between finds domain A, and
 *                its group outlives the drain: P1 / P3.
 * With -DANSWERS the consumer answers every group (late, maybe): then P3
 * holds even for the broken variants, and the counterexample spin finds is
 * the stale response of P1 (check-models.sh runs them so).
 */

#ifndef N1
#define N1	2	/* requests of the first user */
#endif
#define NG	(N1 + 1)

#define NONE	0
#define DA	1
#define DB	2

#define FREE	0
#define RUNNING	1	/* filed, its handler not called yet */
#define ASYNC	2	/* the handler (fault queue) holds it */
#define DONE	3

byte attached = DA;		/* the PASID's domain (core's attachment) */
byte epoch = 1;			/* ghost: the PASID's user */
byte dev_ep = 1;		/* ghost: the user the device works for */
bool draining = false;		/* a drain record of the PASID (fd->drains) */
bool stopped = false;		/* the device sent its last request of epoch 1 */
bool devdone = false;
bool workerdone = false;
byte ngroups = 0;
byte gstate[NG];
byte gdom[NG];
byte gep[NG];			/* ghost */
byte delivered[NG];		/* ghost: responses sent for the group */
byte rcu_ctr[1];		/* the worker: odd = inside a read-side section */

chan prq = [NG] of { byte };	/* requests (their ghost epoch) */
chan qA = [NG] of { byte };	/* domain A's fault queue */
chan qB = [NG] of { byte };	/* domain B's handler */

/* A response not tied to a group (refused, no domain, PRQ purge). */
inline deliver_ep(ep)
{
	assert(!(dev_ep == 2 && ep == 1))		/* P1 */
}

/* A group's response (under the device lock: inside an atomic). */
inline deliver(g)
{
	delivered[g]++;
	assert(delivered[g] == 1);			/* P2 */
	assert(!(dev_ep == 2 && gep[g] == 1))		/* P1 */
}

/* siommu_iopf_group_respond(): delivered only while pending. */
inline respond(g)
{
	atomic {
		if
		:: gstate[g] == RUNNING || gstate[g] == ASYNC ->
			gstate[g] = DONE;
			deliver(g)
		:: else -> skip				/* late: dropped */
		fi
	}
}

inline report(ep)
{
	atomic {
		if
		:: draining -> deliver_ep(ep)		/* refused: Invalid */
		:: else -> prq!ep
		fi
	}
}

inline synchronize_rcu()
{
	snap = rcu_ctr[0];
	if
	:: snap % 2 == 1 -> (rcu_ctr[0] != snap)
	:: else -> skip
	fi
}

inline drain()
{
	atomic { draining = true };			/* 1: no new request */
	atomic {					/* 2: the PRQ, purged */
		do
		:: nempty(prq) -> prq?ep; deliver_ep(ep)
		:: empty(prq) -> break
		od
	};
	/* 3: handler calls in flight return */
	(gstate[0] != RUNNING && gstate[1] != RUNNING && gstate[NG - 1] != RUNNING);
#ifndef NAIVE
	/* 4: a bounded wait for answers owed: they come, or the timeout */
	if
	:: (gstate[0] != ASYNC && gstate[1] != ASYNC && gstate[NG - 1] != ASYNC)
	:: true						/* timed out */
	fi;
	atomic {					/* 5: Invalid for the rest */
		i = 0;
		do
		:: i < ngroups ->
			if
			:: gstate[i] == RUNNING || gstate[i] == ASYNC ->
				gstate[i] = DONE;
				deliver(i)
			:: else -> skip
			fi;
			i++
		:: else -> break
		od
	};
#endif
	atomic { draining = false }
}

proctype device()
{
	byte k = 0;

	do
	:: k < N1 -> report(1); k++
	:: k < N1 -> break				/* stops early */
	:: else -> break
	od;
	stopped = true;
	(epoch == 2);					/* the PASID's next user */
	dev_ep = 2;
	report(2);
	devdone = true
}

proctype worker()
{
	byte ep, g;

	do
	:: atomic {				/* PRQ lock: pop and file together */
		prq?ep ->
		g = NG;
		rcu_ctr[0]++;			/* read-side section, device lock */
		if
		:: draining -> deliver_ep(ep)
		:: !draining && attached == NONE -> deliver_ep(ep)	/* no domain */
		:: !draining && attached != NONE ->
			g = ngroups;
			ngroups++;
			gstate[g] = RUNNING;
			gdom[g] = attached;
			gep[g] = ep
		fi;
		rcu_ctr[0]++
	   };
		if
		:: g < NG ->				/* iopf_dispatch() */
			atomic {
				if
				:: gdom[g] == DA -> qA!g
				:: else -> qB!g
				fi;
				if
				:: gstate[g] == RUNNING -> gstate[g] = ASYNC
				:: else -> skip
				fi
			}
		:: else -> skip
		fi
	:: devdone && empty(prq) -> break
	od;
	workerdone = true
}

/* The fault queue's consumer: answers each group at some point, or never. */
proctype consumer_a()
{
	byte g;

	do
	:: qA?g ->
#ifdef ANSWERS
		respond(g)				/* always, at some point */
#else
		if
		:: respond(g)
		:: skip					/* never answered */
		fi
#endif
	:: workerdone && empty(qA) -> break
	od
}

proctype consumer_b()
{
	byte g;

	do
	:: qB?g -> respond(g)
	:: workerdone && empty(qB) -> break
	od
}

proctype detacher()
{
	byte snap, ep, i;

#ifdef DRAIN_FIRST
	drain();
	attached = NONE;
#else
	attached = NONE;	/* step 3 of the attach protocol: the switch */
	synchronize_rcu();	/* step 4 */
	drain();		/* step 5: the iopf layer's commit */
#endif
	/* the next user gets the PASID once the device stopped and the PRQ is empty */
	(stopped && empty(prq));
	atomic { epoch = 2; attached = DB }
}

init
{
	byte i;

	atomic {
		run device();
		run worker();
		run consumer_a();
		run consumer_b();
		run detacher()
	};
	(_nr_pr == 1);
	i = 0;
	do
	:: i < ngroups -> assert(delivered[i] == 1); i++	/* P3 */
	:: else -> break
	od
}
