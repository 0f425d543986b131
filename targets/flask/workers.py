"""DRUM's gunicorn/workers.py: the gevent worker DRUM_GUNICORN_WORKER_CLASS=gevent
selects, which drops a connection that sends nothing within first_byte_timeout
seconds (gunicorn.conf.py sets it per worker)."""
import socket

from gevent.socket import wait_read
from gunicorn.workers.ggevent import GeventWorker


class DrumGeventWorker(GeventWorker):
    first_byte_timeout = 2

    def handle(self, listener, client, addr):
        if self.first_byte_timeout:
            try:
                wait_read(client.fileno(), timeout=self.first_byte_timeout)
            except socket.timeout:
                client.close()
                return
        super().handle(listener, client, addr)
