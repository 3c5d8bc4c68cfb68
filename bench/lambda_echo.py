"""A Lambda Invoke API whose every function does nothing: it answers each event as it came
(`POST /2015-03-31/functions/{name}/invocations`). For measuring what calling a trigger costs
Gatehouse (docs/measurements.md, "Sign-in with a PreTokenGeneration trigger"):

    python3 bench/lambda_echo.py 9400 &
    gatehouse --lambda-endpoint http://127.0.0.1:9400 ...
    gatehouse-loadgen --pre-token-generation arn:aws:lambda:us-east-1:000000000000:function:noop ...
"""

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave at once: no delayed-ACK stall on a kept-alive connection.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9400
    server = ThreadingHTTPServer(("127.0.0.1", port), Echo)
    server.daemon_threads = True
    server.serve_forever()
