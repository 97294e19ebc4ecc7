# Throwaway service instances for the tests, on free loopback ports. Sourced by .ci/run.
free_port() { python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start_postgres() {
  local bin; bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  PG_DATA=$(mktemp -d /tmp/aurum-pg.XXXXXX)
  PG_PORT=$(free_port)
  chown postgres "$PG_DATA"
  su postgres -c "cd / && $bin/initdb -D $PG_DATA -A trust -U postgres >/dev/null"
  su postgres -c "cd / && $bin/pg_ctl -D $PG_DATA -l $PG_DATA/log -w -o '-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300' start >/dev/null"
  export AURUM_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres"
  PG_BIN=$bin
  echo "PostgreSQL on 127.0.0.1:$PG_PORT"
}

stop_services() {
  if [ -n "${PG_DATA:-}" ]; then su postgres -c "cd / && $PG_BIN/pg_ctl -D $PG_DATA -m fast stop >/dev/null" || true; fi
}
