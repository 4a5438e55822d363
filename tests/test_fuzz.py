"""Property tests (Hypothesis): for arbitrary input, token verification ends in a verdict, the CSV importer in
a plan with row errors or a file error, and the token refresh endpoint in an answer that gives a stranger no
token. Never another exception."""

import base64
import json
import string
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from viewers import imports, tokens
from viewers.models import TokenAudit

ARN = "arn:aws:ivs:us-west-2:123456789012:channel/MainEvent01"
NOW = 1_800_000_000
KEY = tokens.generate_private_key()
KEYS = [("k1", KEY.public_key())]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
claims = st.fixed_dictionaries(
    {},
    optional={
        "aws:channel-arn": st.sampled_from([ARN, ""]) | st.text(max_size=30) | json_values,
        "exp": st.integers(NOW - 1000, NOW + 2000) | json_values,
        "iat": st.integers() | json_values,
        "aws:viewer-id": st.text(max_size=50) | json_values,
        "aws:viewer-session-version": st.integers() | json_values,
        "aws:single-use-uuid": st.uuids().map(str) | json_values,
        "aws:access-control-allow-origin": st.text(max_size=40) | json_values,
        "aws:maximum-resolution": st.sampled_from(["SD", "HD", "FULL_HD"]) | json_values,
    },
)
headers = st.fixed_dictionaries({"alg": st.sampled_from(["ES384", "HS256", "none"]) | json_values}) | json_values


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@st.composite
def token_like(draw):
    """Mostly almost-tokens: real signatures over odd claims, forged segments, deep nesting, raw junk."""
    kind = draw(st.sampled_from(["signed", "segments", "nested", "text"]))
    if kind == "signed":
        import jwt

        return jwt.encode(draw(claims), KEY, algorithm="ES384")
    if kind == "segments":
        header = json.dumps(draw(headers)).encode()
        payload = json.dumps(draw(json_values | claims)).encode()
        signature = draw(st.binary(max_size=120))
        return ".".join([b64(header), b64(payload), b64(signature)])
    if kind == "nested":
        depth = draw(st.integers(100, 6000))
        return ".".join([b64(b'{"alg":"ES384"}'), b64(nested(depth)), b64(b"s" * 96)])
    return draw(st.text(alphabet=string.printable + "é€\x00", max_size=300))


@settings(max_examples=300, deadline=None)
@given(token=token_like(), origin=st.none() | st.text(max_size=30))
def test_verify_only_ever_returns_a_verdict(token, origin):
    try:
        verified = tokens.verify(token, keys=KEYS, channel_arn=ARN, now=NOW, origin=origin)
    except tokens.TokenRejected as rejected:
        assert rejected.code in tokens.REJECTIONS and rejected.reason
    else:
        assert verified.key_id == "k1" and verified.channel_arn == ARN


cells = st.sampled_from(["", "alice@example.com", "main-event", "HD", "sd", "2026-03-01", "9999-12-31T23:59:00-05:00"])
cells |= st.sampled_from(["0001-01-01T00:00+01:00", "2026-03-01T18:00+14:00", "=cmd()", '"', "\n", ",", "\x00"])
cells |= st.text(max_size=25)


@st.composite
def csv_text(draw):
    header = draw(st.sampled_from([",".join(imports.COLUMNS), "email,channel,start,end,resolution,note", "a,b"]))
    rows = draw(st.lists(st.lists(cells, min_size=0, max_size=8), max_size=8))
    return header + "\n" + "\n".join(",".join(row) for row in rows) + draw(st.sampled_from(["", "\n", "\r\n"]))


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400) | csv_text().map(str.encode))
def test_reading_a_file_gives_rows_or_a_file_error(data):
    try:
        rows = imports.read_rows(imports.decode(data))
    except imports.ImportFileError as exc:
        assert str(exc)
    else:
        assert all(isinstance(row.errors, list) for row in rows)


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=csv_text(), create_users=st.booleans())
def test_planning_an_import_gives_a_plan_or_a_file_error(private_channel, alice, text, create_users):
    try:
        plan = imports.plan_import(text, create_users=create_users)
    except imports.ImportFileError as exc:
        assert str(exc)
    else:
        for row in plan.rows:
            assert row.status in {"new", "unchanged", "error"}
            assert (row.status == "error") == bool(row.errors)
            for when in (row.starts_at, row.ends_at):
                assert when is None or when.year in range(1900, 9999)


form_text = st.text() | st.sampled_from(["1", "0", "²", "１２", "١٢", "9" * 19, "-1", "1e3", " 1", "1\n", "\x00"])


@pytest.mark.django_db
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    session=form_text,
    others=st.dictionaries(st.text(min_size=1, max_size=10), form_text, max_size=3),
    urlencoded=st.booleans(),
    entitled=st.booleans(),
)
def test_any_text_in_a_refresh_gives_an_answer_and_a_stranger_no_token(
    client, alice, carol, session, others, urlencoded, entitled
):
    from django.core.cache import cache

    cache.clear()  # each example is a fresh minute for the refresh limit
    client.force_login(alice if entitled else carol)
    data = {**others, "session": session}
    if urlencoded:
        response = client.post(
            "/channels/main-event/playback", urlencode(data), content_type="application/x-www-form-urlencoded"
        )
    else:
        response = client.post("/channels/main-event/playback", data)
    if entitled:
        assert response.status_code == 200 and "token=" in response.json()["playbackUrl"]
    else:
        assert response.status_code == 403 and response.json()["error"] == "no_entitlement"
    assert not TokenAudit.objects.filter(user=carol).exists()
