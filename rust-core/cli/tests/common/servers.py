"""Test servers for the live tests, in the internet namespace: HTTP on [::]:8080, HTTPS on [::]:8443, DNS
on [::]:53 (UDP and TCP; every name is A 10.201.1.2) and UDP echo on [::]:7.

GET /big sends the file given as argv[1]; GET /small sends SMALL_BODY bytes; PUT or POST /upload reads the
body and answers "<sha256 hex> <length>". python3 http.server alone cannot take uploads.
usage: servers.py DATA_FILE CERT KEY
"""
import hashlib
import http.server
import os
import socket
import socketserver
import struct
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


def dns_answer(query):
    """The query with QR/RA set and one A record for its question (pointer to offset 12)."""
    answer = struct.pack(">HHHLH4s", 0xC00C, 1, 1, 60, 4, socket.inet_aton("10.201.1.2"))
    return query[:2] + b"\x81\x80" + query[4:6] + b"\x00\x01\x00\x00\x00\x00" + query[12:] + answer


class DnsUdp(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        sock.sendto(dns_answer(data), self.client_address)


class DnsTcp(socketserver.StreamRequestHandler):
    def handle(self):
        (length,) = struct.unpack(">H", self.rfile.read(2))
        reply = dns_answer(self.rfile.read(length))
        self.wfile.write(struct.pack(">H", len(reply)) + reply)


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        sock.sendto(data, self.client_address)


class Udp(socketserver.ThreadingUDPServer):
    address_family = socket.AF_INET6


class Tcp(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True


DATA, CERT, KEY = sys.argv[1:4]
for server in [Udp(("::", 53), DnsUdp), Tcp(("::", 53), DnsTcp), Udp(("::", 7), Echo)]:
    threading.Thread(target=server.serve_forever, daemon=True).start()
plain = Server(("::", 8080), Handler)
tls = Server(("::", 8443), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(CERT, KEY)
tls.socket = context.wrap_socket(tls.socket, server_side=True)
threading.Thread(target=tls.serve_forever, daemon=True).start()
plain.serve_forever()
