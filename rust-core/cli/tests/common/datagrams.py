"""Client for the live tests, in the phone namespace: a DNS query over UDP and one over TCP to the virtual
DNS address, and a UDP echo exchange; exits non-zero unless each answer is right.
usage: datagrams.py VIRTUAL_DNS UDP_NAME TCP_NAME ECHO_SERVER ECHO_BYTES
"""
import socket
import struct
import sys

dns, udp_name, tcp_name, echo_server, echo_bytes = sys.argv[1:6]


def query(name, ident):
    labels = b"".join(bytes([len(part)]) + part.encode() for part in name.split("."))
    return struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + labels + b"\x00\x00\x01\x00\x01"


def check(reply, ident):
    assert reply[:2] == struct.pack(">H", ident) and reply[-4:] == socket.inet_aton("10.201.1.2"), reply


with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.settimeout(5)
    s.sendto(query(udp_name, 1), (dns, 53))
    check(s.recv(512), 1)

with socket.create_connection((dns, 53), timeout=5) as s:
    q = query(tcp_name, 2)
    s.sendall(struct.pack(">H", len(q)) + q)
    (length,) = struct.unpack(">H", s.recv(2))
    reply = b""
    while len(reply) < length:
        reply += s.recv(length - len(reply))
    check(reply, 2)

with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
    s.settimeout(5)
    payload = b"e" * int(echo_bytes)
    s.sendto(payload, (echo_server, 7))
    assert s.recv(65536) == payload
