"""The Ledger API as a Python grpcio client sees it.

Generates stubs from proto/prongsai/v1 with protoc and grpc_python_plugin,
starts `prongsai serve` on a free port, and checks appends, reads, the hash
chain, idempotency, errors and health checking.
"""

import hashlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import unittest
import uuid

SOURCE = os.environ.get("PRONGSAI_SOURCE_DIR", ".")
BINARY = os.environ.get("PRONGSAI_BIN", "prongsai")

STUBS = tempfile.mkdtemp(prefix="prongsai-py-")
subprocess.run(
    ["protoc", "-I", os.path.join(SOURCE, "proto"), "--python_out", STUBS,
     "--grpc_out", STUBS, "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin"]
    + [os.path.join(SOURCE, "proto/prongsai/v1", name)
       for name in sorted(os.listdir(os.path.join(SOURCE, "proto/prongsai/v1")))
       if name.endswith(".proto")],
    check=True)
sys.path.insert(0, STUBS)

import grpc  # noqa: E402
from prongsai.v1 import events_pb2, ledger_pb2, ledger_pb2_grpc, record_pb2  # noqa: E402


def meeting(title="ประชุมผู้บริหาร", attendees=12):
    event = events_pb2.Event(event_id=str(uuid.uuid4()))
    event.occurred_at.FromJsonString("2024-11-05T10:00:00+07:00")
    event.actor.id = "1045-ita-01"
    m = event.meeting_held
    m.meeting_id = "m-" + event.event_id[:8]
    m.kind = events_pb2.MEETING_KIND_EXECUTIVES
    m.title = title
    m.date.year, m.date.month, m.date.day = 2024, 11, 5
    m.attendees = attendees
    return event


class LedgerClientTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.data = tempfile.mkdtemp(prefix="prongsai-data-")
        cls.server = subprocess.Popen(
            [BINARY, "serve", "--insecure-dev", "--listen", "127.0.0.1:0",
             "--data", cls.data],
            stdout=subprocess.PIPE, text=True)
        port = None
        for line in cls.server.stdout:
            found = re.search(r"serving gRPC on port (\d+)", line)
            if found:
                port = int(found.group(1))
                break
        if port is None:
            raise RuntimeError("the server did not report its port")
        cls.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(cls.channel).result(timeout=20)
        cls.stub = ledger_pb2_grpc.LedgerStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.send_signal(signal.SIGTERM)
        assert cls.server.wait(timeout=30) == 0

    def test_append_read_and_verify_the_chain(self):
        events = [meeting(attendees=i + 1) for i in range(3)]
        reply = self.stub.Append(
            ledger_pb2.AppendRequest(stream="1010", events=events), timeout=10)
        self.assertEqual(list(reply.sequences), [1, 2, 3])
        prev = bytes(32)
        entries = list(self.stub.Read(ledger_pb2.ReadRequest(stream="1010")))
        self.assertEqual(len(entries), 3)
        for entry, sent in zip(entries, events):
            self.assertEqual(hashlib.sha256(entry.record_bytes).digest(), entry.hash)
            record = record_pb2.Record.FromString(entry.record_bytes)
            self.assertEqual(record.prev_hash, prev)
            self.assertEqual(record.event, sent)
            prev = entry.hash
        self.assertEqual(reply.head_hash, prev)

    def test_resending_a_batch_is_idempotent(self):
        request = ledger_pb2.AppendRequest(stream="1020", events=[meeting()])
        first = self.stub.Append(request, timeout=10)
        again = self.stub.Append(request, timeout=10)
        self.assertTrue(again.duplicate)
        self.assertEqual(list(again.sequences), list(first.sequences))

    def test_errors_name_what_is_wrong(self):
        with self.assertRaises(grpc.RpcError) as caught:
            self.stub.Append(ledger_pb2.AppendRequest(stream="9999", events=[meeting()]))
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("stream", caught.exception.details())

        stale = ledger_pb2.AppendRequest(stream="1030", events=[meeting()], exact=5)
        with self.assertRaises(grpc.RpcError) as caught:
            self.stub.Append(stale)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        self.assertIn("version 0", caught.exception.details())

        empty = events_pb2.Event(event_id=str(uuid.uuid4()))
        with self.assertRaises(grpc.RpcError) as caught:
            self.stub.Append(ledger_pb2.AppendRequest(stream="1030", events=[empty]))
        self.assertIn("events[0]", caught.exception.details())

    def test_the_city_stream_holds_the_districts(self):
        names = [e.record.event.district_registered.name_en
                 for e in self.stub.Read(ledger_pb2.ReadRequest(stream="city"))
                 if e.record.event.HasField("district_registered")]
        self.assertEqual(len(names), 50)
        self.assertIn("Wang Thonglang", names)

    def test_health(self):
        # grpc.health.v1 by its method path, without generated stubs.
        check = self.channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=lambda _: b"",
            response_deserializer=lambda raw: raw)
        self.assertEqual(check(None, timeout=10), b"\x08\x01")  # status: SERVING


if __name__ == "__main__":
    unittest.main()
