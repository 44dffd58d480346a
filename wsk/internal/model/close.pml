/* close.pml: Spin model of gowsk's close protocol (dispatch.guardCloseSocket).
 *
 * Build: spin -a close.pml && gcc -O2 -w -DNFAIR=3 -o pan pan.c && ./pan -a -f -N pd
 * Mutants (-D): M1 non-atomic check-then-increment acquire, M2 cancel without CAS,
 * M3 close that does not wait for running callbacks, M4 a refused acquire that adds and
 * undoes (and runs the drain when its undo empties the guard). See README.md.
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

/* Rundown word, as refcount.Rundown.state: bit 0 = rundown active, count in units of 2. */
byte rw = 0;
bool drained = false;        /* rundown waiters fired (WaitFunc continuation taken) */
byte inprov = 0;             /* callers between acquire and release (at the provider) */

/* Callback rundown: the event-callback "in progress" guard, same layout as rw. Close
 * step 4 is its WaitFunc: the continuation (step 5 on) is queued and runs in whichever
 * process drains it. */
byte cbrw = 0;
byte cbRunning = 0;
bool cbDrained = false;      /* the callback rundown's drain ran */
bool cbQueued = false;       /* step 4's continuation is queued, not yet taken */

/* The socket's lock (socket.mu): 0 free, else the owner's _pid + 1. The loop takes the
 * callback rundown under it; step 5 takes it. */
byte mu = 0;
bool selfDeadlock = false;   /* a process waited for mu while holding it */

byte irpState[NCALLERS];     /* 0 none, 1 pending, 2 done */
byte completions[NCALLERS];
bool disconnected = false;
bool resetSent = false;
bit  closing = 0;            /* Socket.closing */
byte closeDone = 0;          /* close IRP completions */
byte closeRefused = 0;

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

inline lockMu() {
  if :: mu == _pid + 1 -> selfDeadlock = true :: else -> skip fi;
  atomic { mu == 0 -> mu = _pid + 1 }
}
inline unlockMu() { mu = 0 }

/* Close step 5 on: the continuation of step 4 (s.callbacks.WaitFunc in wsk/close.go).
 * Takes the socket's lock, cancels every pending IRP exactly once, resets if the graceful
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

/* refcount's drain of the callback rundown: whoever sees it empty and active takes the
 * queued continuation, at most once. */
inline cbFire() {
  bool take = false;
  atomic {
    if
    :: !cbDrained && cbrw == 1 -> cbDrained = true; take = cbQueued; cbQueued = false
    :: else -> skip
    fi
  };
  if :: take -> closeStep5() :: else -> skip fi
}

/* Close step 4: WaitFunc on the callback rundown. Begin (Or bit 0, drain if empty), then
 * queue the continuation, or run it here if the drain already happened. */
inline closeStep4() {
  byte cbold;
  bool inline5 = false;
  atomic { cbold = cbrw; cbrw = cbrw | 1 };
#ifdef M3
  /* MUTANT M3: close does not wait for running callbacks. */
  closeStep5()
#else
  if :: cbold / 2 == 0 -> cbFire() :: else -> skip fi;
  atomic { if :: cbDrained -> inline5 = true :: else -> cbQueued = true fi };
  if :: inline5 -> closeStep5() :: else -> skip fi
#endif
}

/* The WaitFunc continuation of the guard's rundown: the provider's close (closeSocket),
 * in whichever process drains the guard. */
inline closeTail() { closeStep4() }

/* refcount.Rundown.w.fire for the guard: runs the continuation at most once. */
inline fire() {
  bool mine = false;
  atomic { if :: !drained -> drained = true; mine = true :: else -> skip fi };
  if :: mine -> closeTail() :: else -> skip fi
}

/* refcount.Rundown.Acquire on word w (rw or cbrw), drain action onEmpty. */
#ifdef M1
/* MUTANT M1: check bit 0, then increment in a separate step. */
#define ACQUIRE(w, ok, onEmpty) \
  if \
  :: (w & 1) -> ok = false \
  :: else -> atomic { w = w + 2 }; ok = true \
  fi
#elif defined(M4)
/* MUTANT M4 (the refcount before the fix): add, and on refusal undo; the undo that leaves
 * the word empty and active runs the drain, in the refused caller, whatever it holds. */
#define ACQUIRE(w, ok, onEmpty) \
  atomic { w = w + 2; s = w }; \
  if \
  :: (s & 1) == 0 -> ok = true \
  :: else -> \
     ok = false; \
     atomic { w = w - 2; s = w }; \
     if :: s == 1 -> onEmpty :: else -> skip fi \
  fi
#else
/* A compare-and-swap that writes only a granted reference: a refused acquire changes
 * nothing, so it never drains. */
#define ACQUIRE(w, ok, onEmpty) \
  atomic { if :: (w & 1) == 0 -> w = w + 2; ok = true :: else -> ok = false fi }
#endif

inline acquire(ok) {
  byte s;
  ACQUIRE(rw, ok, fire())
}

/* refcount.Rundown.Release / releaseSlow */
inline release() {
  byte r;
  atomic { rw = rw - 2; r = rw };
  if :: r == 1 -> fire() :: else -> skip fi
}

proctype Caller(byte i) {
  bool ok;
  acquire(ok);
  if
  :: ok ->
     atomic { inprov++ };
     if
     :: irpState[i] = 1              /* the provider returns Pending */
     :: disconnected = true          /* a graceful disconnect completed */
     :: skip                         /* completed inline */
     fi;
     atomic { inprov-- };
     release()
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

/* Event callbacks: the loop decides under the socket's lock whether one may start
 * (startIndication, serveListenLocked, offerEventLocked), runs it with no lock held, and
 * releases its reference after. */
proctype EventSource() {
  byte n = 0;
  byte s, r;
  bool ok;
  do
  :: n < NCALLBACKS ->
     n++;
     lockMu();
     ACQUIRE(cbrw, ok, cbFire());
     unlockMu();
     if
     :: ok ->
        atomic { cbRunning++ };
        atomic { cbRunning-- };
        atomic { cbrw = cbrw - 2; r = cbrw };
        if :: r == 1 -> cbFire() :: else -> skip fi
     :: else -> skip                         /* refused once close stopped callbacks */
     fi
  :: else -> break
  od
}

proctype Closer() {
  byte old;
  bool won;
  atomic { if :: closing == 0 -> closing = 1; won = true :: else -> won = false fi };
  if
  :: !won -> closeRefused++                 /* a second close: InvalidHandle */
  :: else ->
     /* WaitFunc: Begin (Or bit 0) and queue the continuation. */
     atomic { old = rw; rw = rw | 1 };
     if :: old / 2 == 0 -> fire() :: else -> skip fi
  fi
}

init {
  byte k;
  atomic {
    k = 0;
    do :: k < NCALLERS -> run Caller(k); k++ :: else -> break od;
    run Provider(); run EventSource();
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

/* (a) no call is at the provider once close has drained the rundown */
ltl pa { [] (drained -> inprov == 0) }
/* (b) each IRP completes at most once; after the close IRP completes none is pending */
ltl pb { [] (ALLONCE && (closeDone > 0 -> NOPENDING)) }
/* (c) when the close IRP completes no callback runs, and none starts afterwards */
ltl pc { [] (closeDone > 0 -> cbRunning == 0) }
/* (d) the close IRP completes exactly once: eventually, and never twice */
ltl pd { <> (closeDone == 1) && [] (closeDone <= 1) }
/* (e) no process waits for the socket's lock while holding it: no drain runs inside a
 * refused acquire made under that lock */
ltl pe { [] !selfDeadlock }
