/* close.pml: Spin model of gowsk's close protocol (dispatch.guardCloseSocket).
 *
 * Build: spin -a close.pml && gcc -O2 -w -DNFAIR=3 -o pan pan.c && ./pan -a -f -N pd
 * Mutants (-D): M1 non-atomic check-then-increment acquire, M2 cancel without CAS,
 * M3 close that does not wait for running callbacks, M4 a refused acquire that adds and
 * undoes (and runs the drain when its undo empties the guard), M5 a waiter that checks
 * "drained" and then sets "waiting" in two steps, M6 a last release that claims the drain
 * without looking at "waiting". See README.md.
 */
#ifndef NCALLERS
#define NCALLERS 2
#endif
#ifndef NCLOSERS
#define NCLOSERS 2
#endif
#ifndef NCALLBACKS
#define NCALLBACKS 2
#endif

/* A rundown, as refcount.Rundown: its word (active, drained, waiting, count; one
 * variable each, changed together only inside one atomic step, which is one
 * compare-and-swap of the word) and its waiter block's queued continuation. The block's
 * lock guards short sections in which nothing blocks and nothing runs user code (enlist
 * and queue; take the queue; mark drained), so each is one atomic step here: the lock's
 * exclusion, with fewer states. Two rundowns: rw, the socket's guard (dispatch), whose
 * continuation is the provider's close; cb, the callback guard, whose continuation is
 * close step 5. */
bool rwA = false; bool rwD = false; bool rwW = false; byte rwN = 0;
bool rwQ = false;            /* the WaitFunc continuation is queued in the block */
bool cbA = false; bool cbD = false; bool cbW = false; byte cbN = 0;
bool cbQ = false;

bool closeBegan = false;     /* the guard's continuation (the provider's close) started */
byte inprov = 0;             /* callers between acquire and release (at the provider) */
byte cbRunning = 0;

/* The socket's lock (socket.mu): 0 free, else the owner's _pid + 1. The loop takes the
 * callback rundown under it; step 5 takes it. */
byte mu = 0;
bool selfDeadlock = false;   /* a process waited for the socket's lock while holding it */

byte irpState[NCALLERS];     /* 0 none, 1 pending, 2 done */
byte completions[NCALLERS];
bool disconnected = false;
bool resetSent = false;
bit  closing = 0;            /* Socket.closing */
byte closeDone = 0;          /* close IRP completions */
byte closeRefused = 0;

inline lockMu() {
  if :: mu == _pid + 1 -> selfDeadlock = true :: else -> skip fi;
  atomic { mu == 0 -> mu = _pid + 1 }
}
inline unlockMu() { mu = 0 }

/* The provider's and the closer's completion: the same CAS pending -> done. */
inline completeCAS(i) {
  atomic { if :: irpState[i] == 1 -> irpState[i] = 2; completions[i]++ :: else -> skip fi }
}

#ifdef M2
/* MUTANT M2: cancel reads then writes in two steps (no CAS). */
inline cancelIRP(i) {
  if
  :: irpState[i] == 1 -> irpState[i] = 2; completions[i]++
  :: else -> skip
  fi
}
#else
inline cancelIRP(i) { completeCAS(i) }
#endif

/* Close step 5 on: the callback rundown's continuation (closeRun.cancelStep). Takes the
 * socket's lock, cancels every pending IRP exactly once, resets if the graceful
 * disconnect did not happen, completes the close IRP. */
inline closeStep5() {
  byte j;
  lockMu();
  j = 0;
  do
  :: j < NCALLERS -> cancelIRP(j); j++
  :: else -> break
  od;
  unlockMu();
  if :: !disconnected -> resetSent = true :: else -> skip fi;
  closeDone++
}

/* The rundown's operations, for X = rw or cb, with CONT the code of its continuation.
 * Each process that uses them declares the scratch booleans dn, take, last, ok;
 * every macro reads its scratch values before it runs CONT, so a nested use (the
 * continuation runs down the next guard) may reuse them. */

/* Rundown.Acquire: refused, it writes nothing. */
#ifdef M1
/* MUTANT M1: check active, then increment in a separate step. */
#define ACQUIRE(X, CONT) \
  if \
  :: X##A -> ok = false \
  :: else -> atomic { X##N++ }; ok = true \
  fi
#elif defined(M4)
/* MUTANT M4 (the refcount before the first fix): add, and on refusal undo; the undo
 * that leaves the word empty and active runs the drain, in the refused caller, whatever
 * it holds. */
#define ACQUIRE(X, CONT) \
  atomic { X##N++; ok = !X##A }; \
  if \
  :: ok -> skip \
  :: else -> \
     atomic { X##N--; last = X##A && X##N == 0 }; \
     if :: last -> DRAIN(X, CONT) :: else -> skip fi \
  fi
#else
#define ACQUIRE(X, CONT) \
  atomic { if :: !X##A -> X##N++; ok = true :: else -> ok = false fi }
#endif

/* Rundown.Release; the release that leaves an active word empty drains it. */
#define RELEASE(X, CONT) \
  atomic { X##N--; last = X##A && X##N == 0 }; \
  if :: last -> DRAIN(X, CONT) :: else -> skip fi

/* Rundown.drain: with nobody waiting, one compare-and-swap sets drained (nothing to
 * run); with somebody waiting, the block's drain (waiters.fire) takes the queued
 * continuation under the block's lock, runs it with no lock held, then marks drained.
 * The waiter set waiting and queued in one section, so seeing waiting and taking the
 * queue are one step here. The provider queues one continuation per guard (the second
 * close is refused), so fire's loop over a list is not modelled. */
#ifdef M6
/* MUTANT M6: the claim sets drained without looking at waiting. */
#define DRAIN(X, CONT) \
  atomic { if :: !X##D -> X##D = true :: else -> skip fi }
#else
#define DRAIN(X, CONT) \
  atomic { \
    if \
    :: X##D -> take = false \
    :: !X##D && X##W -> take = X##Q; X##Q = false \
    :: !X##D && !X##W -> take = false; X##D = true \
    fi \
  }; \
  if :: take -> CONT; X##D = true :: else -> skip fi
#endif

/* Rundown.WaitFunc: Begin (one compare-and-swap: active, and drained too if no
 * reference is held; then nobody waits and no block is used), else, under the block's
 * lock, enlist (set waiting unless drained: one compare-and-swap) and queue. */
#ifdef M5
/* MUTANT M5: the waiter checks drained, then sets waiting (and queues), in two steps:
 * the last release's claim, which takes no lock, can fall in between. */
#define ENLIST(X) \
  dn = X##D; \
  atomic { if :: !dn -> X##W = true; X##Q = true :: else -> skip fi }
#else
#define ENLIST(X) \
  atomic { if :: X##D -> dn = true :: else -> dn = false; X##W = true; X##Q = true fi }
#endif

#define WAITFUNC(X, CONT) \
  atomic { \
    if \
    :: X##A -> dn = X##D \
    :: else -> X##A = true; \
       if :: X##N == 0 -> X##D = true; dn = true :: else -> dn = false fi \
    fi \
  }; \
  if \
  :: dn -> CONT \
  :: else -> \
     ENLIST(X); \
     if :: dn -> CONT :: else -> skip fi \
  fi

/* Close step 4: WaitFunc on the callback rundown, continuation step 5. */
#ifdef M3
/* MUTANT M3: close does not wait for running callbacks. */
#define CLOSESTEP4 closeStep5()
#else
#define CLOSESTEP4 WAITFUNC(cb, closeStep5())
#endif

/* The guard's continuation: the provider's close (closeSocket), in whichever process
 * drained the guard. */
#define CLOSETAIL closeBegan = true; CLOSESTEP4

proctype Caller(byte i) {
  bool dn, take, last, ok;
  ACQUIRE(rw, CLOSETAIL);
  if
  :: ok ->
     atomic { inprov++ };
     if
     :: irpState[i] = 1              /* the provider returns Pending */
     :: disconnected = true          /* a graceful disconnect completed */
     :: skip                         /* completed inline */
     fi;
     atomic { inprov-- };
     RELEASE(rw, CLOSETAIL)
  :: else -> skip                    /* refused: InvalidHandle, nothing queued */
  fi
}

/* The provider completes pending IRPs asynchronously, with the same CAS as cancel. */
proctype Provider() {
  byte i;
  do
  :: atomic { i < NCALLERS -> if :: completeCAS(i) :: skip fi; i++ }
  :: else -> break
  od
}

/* Event callbacks: each source takes a reference of the callback rundown, runs its
 * callback with no lock held and releases the reference after. The first source is the
 * loop, which decides under the socket's lock whether a callback may start
 * (startIndication, serveListenLocked, offerEventLocked); the others take it with no lock
 * held, as an indication's delivery and invokeCallback do. With NCALLBACKS > 1 one
 * callback's release can fall between the loop's acquire and what that acquire does
 * next (M4). */
proctype EventSource(bool underMu) {
  bool dn, take, last, ok;
  if :: underMu -> lockMu() :: else -> skip fi;
  ACQUIRE(cb, closeStep5());
  if :: underMu -> unlockMu() :: else -> skip fi;
  if
  :: ok ->
     atomic { cbRunning++ };
     atomic { cbRunning-- };
     RELEASE(cb, closeStep5())
  :: else -> skip                            /* refused once close stopped callbacks */
  fi
}

proctype Closer() {
  bool won;
  bool dn, take, last, ok;
  atomic { if :: closing == 0 -> closing = 1; won = true :: else -> won = false fi };
  if
  :: !won -> closeRefused++                 /* a second close: InvalidHandle */
  :: else -> WAITFUNC(rw, CLOSETAIL)
  fi
}

init {
  byte k;
  atomic {
    k = 0;
    do :: k < NCALLERS -> run Caller(k); k++ :: else -> break od;
    run Provider();
    k = 0;
    do :: k < NCALLBACKS -> run EventSource(k == 0); k++ :: else -> break od;
    k = 0;
    do :: k < NCLOSERS -> run Closer(); k++ :: else -> break od
  }
}

#if NCALLERS == 2
#define ALLONCE   (completions[0] <= 1 && completions[1] <= 1)
#define NOPENDING (irpState[0] != 1 && irpState[1] != 1)
#else
#define ALLONCE   (completions[0] <= 1 && completions[1] <= 1 && completions[2] <= 1)
#define NOPENDING (irpState[0] != 1 && irpState[1] != 1 && irpState[2] != 1)
#endif

/* (a) no call is at the provider once the guard is drained and close has begun */
ltl pa { [] (closeBegan -> inprov == 0) }
/* (b) each IRP completes at most once; after the close IRP completes none is pending */
ltl pb { [] (ALLONCE && (closeDone > 0 -> NOPENDING)) }
/* (c) when the close IRP completes no callback runs, and none starts afterwards */
ltl pc { [] (closeDone > 0 -> cbRunning == 0) }
/* (d) the close IRP completes exactly once: eventually, and never twice (a continuation
 * lost, or run twice, breaks it) */
ltl pd { <> (closeDone == 1) && [] (closeDone <= 1) }
/* (e) no process waits for a lock while holding it: no drain runs inside a refused
 * acquire made under the socket's lock */
ltl pe { [] !selfDeadlock }
