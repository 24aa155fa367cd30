"""A load generator in its own process: keep-alive HTTP/1.1 from threads for a fixed time.

    python bench/load.py PORT PATH TOKEN SECONDS   -> prints {"rps": ..., "errors": ...}
"""
import http.client
import json
import sys
import threading
import time


def main():
    port, path, token, seconds = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
    counts, errors = [0] * 8, [0] * 8
    stop = time.time() + seconds

    def worker(i):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Authorization": f"Bearer {token}"}
        while time.time() < stop:
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    counts[i] += 1
                else:
                    errors[i] += 1
            except OSError:
                errors[i] += 1
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"rps": sum(counts) / (time.time() - start), "errors": sum(errors)}))


if __name__ == "__main__":
    main()
