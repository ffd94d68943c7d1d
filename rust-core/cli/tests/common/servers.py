"""Test servers for the live tests, in the internet namespace: HTTP on [::]:8080 and HTTPS on [::]:8443.

GET /big sends the file given as argv[1]; GET /small sends SMALL_BODY bytes; PUT or POST /upload reads the
body and answers "<sha256 hex> <length>". python3 http.server alone cannot take uploads.
usage: servers.py DATA_FILE CERT KEY
"""
import hashlib
import http.server
import os
import socket
import ssl
import sys
import threading

SMALL_BODY = 1000
CHUNK = 256 * 1024


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/big":
            size = os.path.getsize(DATA)
            self.head(size)
            with open(DATA, "rb") as data:
                while chunk := data.read(CHUNK):
                    self.wfile.write(chunk)
        elif self.path == "/small":
            self.head(SMALL_BODY)
            self.wfile.write(b"s" * SMALL_BODY)
        else:
            self.send_error(404)

    def do_PUT(self):
        length = int(self.headers.get("Content-Length", "0"))
        digest, left = hashlib.sha256(), length
        while left > 0:
            chunk = self.rfile.read(min(CHUNK, left))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
        body = f"{digest.hexdigest()} {length - left}".encode()
        self.head(len(body))
        self.wfile.write(body)

    do_POST = do_PUT

    def head(self, length):
        self.send_response(200)
        self.send_header("Content-Length", str(length))
        self.end_headers()


class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6  # "::" takes IPv4 too (v4-mapped)
    request_queue_size = 2048  # 1,000 clients connect at once
    daemon_threads = True


DATA, CERT, KEY = sys.argv[1:4]
plain = Server(("::", 8080), Handler)
tls = Server(("::", 8443), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(CERT, KEY)
tls.socket = context.wrap_socket(tls.socket, server_side=True)
threading.Thread(target=tls.serve_forever, daemon=True).start()
plain.serve_forever()
