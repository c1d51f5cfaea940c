"""moto's server with its requests served one at a time.

moto checks S3's `If-None-Match: *` and then stores the object in two steps, and its server
answers requests on several threads: two conditional puts of one key racing each other can then
both succeed, and one commit overwrites the other. Real S3 makes the check and the put atomic; so
does this server, by holding a lock around each request. Same arguments as `moto_server`
(`-H HOST -p PORT`).
"""

import argparse
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serial(environ, start_response):
        with lock:
            # The whole response is produced under the lock.
            return list(app(environ, start_response))

    run_simple(args.host, args.port, serial, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
