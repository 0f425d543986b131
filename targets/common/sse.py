"""Incremental event-stream decoder shared by the Python comparison servers."""
import codecs
import re


class SseDecoder:
    """Yields the data of each event (WHATWG rules) as bytes arrive.

    Handles LF, CRLF and lone CR line ends (also split across reads), a
    leading BOM, comments and multi-line data.
    """

    _LINE_END = re.compile(r"\r\n|\r|\n")

    def __init__(self):
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._pending = ""
        self._data = []
        self._at_start = True
        self._skip_lf = False  # the last read ended on CR; an LF may follow

    def feed(self, chunk):
        """Returns the data of every event completed by ``chunk``."""
        text = self._decoder.decode(chunk)
        if not text:
            return []
        if self._at_start:
            self._at_start = False
            text = text.removeprefix("\ufeff")
        if self._skip_lf and text.startswith("\n"):
            text = text[1:]
        buf = self._pending + text
        self._skip_lf = buf.endswith("\r")
        events = []
        pos = 0
        for match in self._LINE_END.finditer(buf):
            event = self._line(buf[pos:match.start()])
            pos = match.end()
            if event is not None:
                events.append(event)
        self._pending = buf[pos:]
        return events

    def _line(self, line):
        if not line:
            if not self._data:
                return None
            event, self._data = "\n".join(self._data), []
            return event
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        return None
