"""A ClickHouse HTTP endpoint backed by chdb (in-process ClickHouse, no listener of its own),
enough for spanview's ClickHouse client and rotel's ClickHouse exporter (tests/bench/rotel-clickhouse.sh):
statements in the body or in ?query=, RowBinary data, in one body or chunked, ?database=."""
import os, sys, tempfile, threading, urllib.parse, re
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
import chdb
from chdb import session

sess = session.Session(sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp())
lock = threading.Lock()
print("chdb", chdb.__version__, sess.query("SELECT version()", "TabSeparated").bytes().decode().strip(), flush=True)

INSERT = re.compile(r"^\s*INSERT INTO\s+(\S+)\s*\((.*)\)\s*FORMAT RowBinary\s*$", re.S | re.I)

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.answer(200, b"Ok.\n")

    def do_POST(self):
        params = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        body = self.read_body()
        query = params.get("query", [None])[0]
        database = params.get("database", [None])[0]
        try:
            with lock:
                if query is None:
                    out = sess.query(body.decode(), "TabSeparated").bytes()
                else:
                    m = INSERT.match(query)
                    assert m, "only INSERT ... FORMAT RowBinary comes in the URL"
                    table, columns = m.group(1), [c.strip() for c in m.group(2).split(",")]
                    if database and "." not in table:
                        table = f"{database}.{table}"
                    described = sess.query(f"DESCRIBE TABLE {table}", "TabSeparated").bytes().decode()
                    types = {line.split("\t")[0]: line.split("\t")[1] for line in described.splitlines()}
                    structure = ", ".join(f"`{c.strip('`')}` {types[c.strip('`')]}" for c in columns)
                    with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as f:
                        f.write(body)
                    try:
                        sess.query(f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM file('{f.name}', 'RowBinary', '{structure}')")
                    finally:
                        os.unlink(f.name)
                    out = b""
            self.answer(200, out)
        except Exception as error:
            self.answer(500, str(error).encode())

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("Content-Length", 0)))
        parts = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def answer(self, status, out):
        self.send_response(status)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
