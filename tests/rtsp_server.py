"""A real RTSP server for the tests: GStreamer's RTSP server (Debian's gir1.2-gst-rtsp-server-1.0),
serving a folder of JPEG frames as an RTP/JPEG stream at rtsp://127.0.0.1:PORT/plate.

Run with the system Python, which has PyGObject (python3-gi):
    /usr/bin/python3 tests/rtsp_server.py PORT FRAME_PATTERN FPS
FRAME_PATTERN is a multifilesrc location such as /tmp/frames/frame-%03d.jpg.
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> None:
    port, pattern, fps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f'( multifilesrc location="{pattern}" loop=true caps="image/jpeg,framerate={fps}/1" '
        f"! jpegparse ! rtpjpegpay name=pay0 pt=26 )"
    )
    factory.set_shared(True)
    server.get_mount_points().add_factory("/plate", factory)
    server.attach(None)
    print(f"RTSP server ready on rtsp://127.0.0.1:{port}/plate", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
