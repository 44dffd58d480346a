/* close.pml: Spin model of gowsk's close protocol (dispatch.guardCloseSocket).
 *
 * Build: spin -a close.pml && gcc -O2 -w -DNFAIR=3 -o pan pan.c && ./pan -a -f -N pd
 * Mutants (-D): M1 non-atomic check-then-increment acquire, M2 cancel without CAS,
 * M3 close that does not wait for running callbacks. See README.md.
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

/* Callback rundown: the event-callback "in progress" guard. */
byte cbrw = 0;
byte cbRunning = 0;

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

/* The WaitFunc continuation: the body of the closure guardCloseSocket hands to
 * s.rundown.WaitFunc, i.e. the provider's close. Runs in whichever process drains. */
inline closeTail() {
  byte j;
  /* stop new callbacks (callback rundown Begin) ... */
  atomic { cbrw = cbrw | 1 };
#ifndef M3
  /* ... and wait for running ones */
  cbrw == 1;
#endif
  /* cancel every pending IRP, exactly once per IRP */
  j = 0;
  do
  :: j < NCALLERS -> cancelIRP(j); j++
  :: else -> break
  od;
  /* abortive close if the graceful disconnect did not happen */
  if :: !disconnected -> resetSent = true :: else -> skip fi;
  closeDone++
}

/* refcount.Rundown.w.fire: runs the continuation at most once. */
inline fire() {
  bool mine = false;
  atomic { if :: !drained -> drained = true; mine = true :: else -> skip fi };
  if :: mine -> closeTail() :: else -> skip fi
}

/* refcount.Rundown.acquire / refuse */
inline acquire(ok) {
  byte s;
#ifdef M1
  /* MUTANT M1: check bit 0, then increment in a separate step. */
  if
  :: (rw & 1) -> ok = false
  :: else -> atomic { rw = rw + 2 }; ok = true
  fi
#else
  atomic { rw = rw + 2; s = rw };
  if
  :: (s & 1) == 0 -> ok = true
  :: else ->
     ok = false;
     atomic { rw = rw - 2; s = rw };       /* undo */
     if :: s == 1 -> fire() :: else -> skip fi
  fi
#endif
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

/* Event callbacks: each start acquires the callback rundown. */
proctype EventSource() {
  byte n = 0;
  do
  :: n < NCALLBACKS ->
     n++;
     if
     :: atomic { (cbrw & 1) == 0 -> cbrw = cbrw + 2; cbRunning++ };
        atomic { cbRunning--; cbrw = cbrw - 2 }
     :: atomic { (cbrw & 1) != 0 -> skip }   /* refused once close stopped callbacks */
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
