"""Mint cost: one complete playback token against one raw ECDSA P-384 sign() of the same bytes.

Both run side by side, interleaved in rounds, with the same parsed key object, so drift on a shared
machine hits both equally. Target: ≤ 1.15× (tokens.mint is PyJWT's jwt.encode over the parsed key; the
hand-written JWS it replaced measured ~1.06×, PyJWT ~1.13× on the development machine).
Prints a JSON line; bench/run.py folds it into docs/BENCHMARKS.md.
"""

import json
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from viewers.ivs import tokens  # noqa: E402

ARN = "arn:aws:ivs:us-west-2:123456789012:channel/MainEvent01"


SINGLE_USE = str(uuid.uuid4())  # made by the caller (viewers.player.playback), like the viewer id


def mint_once(key):
    return tokens.mint(
        key,
        channel_arn=ARN,
        now=int(time.time()),
        ttl=300,
        viewer_id="0123456789abcdef0123456789abcdef",
        session_version=0,
        single_use_uuid=SINGLE_USE,
        allowed_origins=["https://watch.example.com"],
        max_resolution="HD",
    )


def main(rounds=60, per_round=50):
    key = tokens.generate_private_key()
    pem = tokens.private_key_pem(key)
    signing_input = mint_once(key).token.rsplit(".", 1)[0].encode()
    algorithm = ec.ECDSA(hashes.SHA384())

    def raw():
        key.sign(signing_input, algorithm)

    def mint():
        mint_once(key)

    def mint_reparsing():
        tokens.mint(tokens.load_private_key(pem), channel_arn=ARN, now=int(time.time()), ttl=300)

    cases = {"raw_sign": raw, "mint": mint, "mint_reparse_pem": mint_reparsing}
    samples = {name: [] for name in cases}
    order = list(cases.items())
    for round_number in range(rounds):
        # Alternate the order so neither case always runs right after the PEM parsing.
        for name, fn in order if round_number % 2 else reversed(order):
            start = time.perf_counter()
            for _ in range(per_round):
                fn()
            samples[name].append((time.perf_counter() - start) / per_round)
    medians = {name: statistics.median(values) for name, values in samples.items()}

    # Ratios of neighbouring batches cancel the machine's drift; their median ignores interruptions.
    def paired(name):
        return statistics.median(a / b for a, b in zip(samples[name], samples["raw_sign"], strict=True))

    result = {
        "raw_sign_us": medians["raw_sign"] * 1e6,
        "mint_us": medians["mint"] * 1e6,
        "mint_reparse_us": medians["mint_reparse_pem"] * 1e6,
        "mint_over_raw": paired("mint"),
        "reparse_over_raw": paired("mint_reparse_pem"),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
