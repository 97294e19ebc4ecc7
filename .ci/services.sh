# Throwaway service instances for the tests, on free loopback ports. Sourced by .ci/run.
# Everything started or created here is listed for stop_services, which .ci/run calls on every exit path.
CLEANUP=()
STEP_PID=

# A long step runs in the background, in a process group of its own, while the script waits for it: an interrupt
# is then handled at once (bash runs a trap only between commands, and would otherwise let a whole test run finish
# first), and stop_services ends the step with every process it started (servers of the tests included).
step() {
  setsid "$@" &
  STEP_PID=$!
  local rc=0
  wait "$STEP_PID" || rc=$?
  STEP_PID=
  return $rc
}
free_port() { python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start_postgres() {
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  PG_DATA=$(mktemp -d /tmp/aurum-pg.XXXXXX)
  PG_PORT=$(free_port)
  chown postgres "$PG_DATA"
  su postgres -c "cd / && $PG_BIN/initdb -D $PG_DATA -A trust -U postgres >/dev/null"
  su postgres -c "cd / && $PG_BIN/pg_ctl -D $PG_DATA -l $PG_DATA/log -w -o '-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300' start >/dev/null"
  export AURUM_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres"
  echo "PostgreSQL on 127.0.0.1:$PG_PORT"
}

stop_services() {
  local began=$SECONDS
  if [ -n "${STEP_PID:-}" ]; then
    kill -TERM -- "-$STEP_PID" 2>/dev/null || true
    local i; for i in $(seq 1 50); do kill -0 -- "-$STEP_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$STEP_PID" 2>/dev/null || true
    echo "clean-up: the running step stopped after $(( SECONDS - began )) s"
  fi
  if [ -n "${PG_DATA:-}" ] && [ -d "$PG_DATA" ]; then
    if [ -f "$PG_DATA/postmaster.pid" ]; then
      su postgres -c "cd / && $PG_BIN/pg_ctl -D $PG_DATA -m fast -t 30 stop >/dev/null 2>&1" ||
        su postgres -c "cd / && $PG_BIN/pg_ctl -D $PG_DATA -m immediate stop >/dev/null 2>&1" || true
      local pid; pid=$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)
      if [ -n "$pid" ] && grep -q postgres "/proc/$pid/comm" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    fi
    rm -rf "$PG_DATA"
  fi
  local path
  for path in "${CLEANUP[@]}"; do rm -rf "$path"; done
  echo "clean-up: PostgreSQL stopped and ${#CLEANUP[@]} temporary folders removed, $(( SECONDS - began )) s in all"
}
