"""The adapters' bounds (issue 22): every JSON body is depth-checked before ``json.loads``; an
answer is read up to a byte cap and no further (sync and async); a package's file is judged on its
base64 text's length before it is decoded; an oversized CRL is unavailable, not read whole."""

from __future__ import annotations

import asyncio
import base64
import json
import tracemalloc

import httpx
import pytest

from lienthong.clients import http
from lienthong.clients.errors import MalformedAnswer
from lienthong.clients.http import InvalidResponse, RetryPolicy
from lienthong.clients.ioffice import IOfficeClient, IOfficeSettings, RevocationUnavailable
from lienthong.clients.ioffice_shapes import to_package
from lienthong.pipeline.package_checks import LinkIdentity, check_package
from lienthong_standins.harness import IOFFICE_TOKEN

MIB = 1024 * 1024


def nested(depth: int) -> bytes:
    return b'{"a":' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


@pytest.mark.fast
def test_json_deeper_than_the_limit_is_refused_before_parsing():
    at_limit = nested(http.MAX_JSON_DEPTH)
    assert http.parse_json(at_limit, "u") == json.loads(at_limit)
    for depth in (http.MAX_JSON_DEPTH + 1, 50_000):
        with pytest.raises(http.AnswerTooDeep) as refused:
            http.parse_json(nested(depth), "u")
        assert isinstance(refused.value, MalformedAnswer)
    # Brackets inside strings are text, escaped quotes and backslashes included.
    text = '"' + "[" * 100 + '\\"' + "{" * 100 + '\\\\"'
    assert http.parse_json(json.dumps({"s": text, "t": "\\" + "[" * 80}).encode(), "u")["s"] == text
    # Cut short, however deep: refused as malformed all the same, never RecursionError.
    with pytest.raises(http.AnswerTooDeep):
        http.parse_json(b"[" * 50_000, "u")
    with pytest.raises(InvalidResponse) as cut:
        http.parse_json(b'{"a": [1, 2', "u")
    assert not isinstance(cut.value, http.AnswerTooDeep)


@pytest.mark.fast
def test_a_file_is_judged_on_its_base64_length_before_decoding():
    limit = 1000
    fits = base64.b64encode(b"%PDF-" + b"x" * (limit - 5)).decode()
    wrapped = "\r\n".join(fits[i : i + 76] for i in range(0, len(fits), 76))
    assert to_package("VB-1", _wire(wrapped), limit).files[0].content.startswith(b"%PDF-")
    over = "@" * 4000  # not even base64: refused on its length alone, never decoded
    file = to_package("VB-1", _wire(over), limit).files[0]
    assert (file.content, file.decoded, file.too_large) == (b"", False, (3000, limit))
    pkg = to_package("VB-1", _wire(over), limit)
    problem = check_package(pkg, LinkIdentity("000.00.00.H36-220701-0001", "65a1", "VB-1"))
    assert problem is not None and problem.reason_code == "oversized"
    assert problem.message_vi == "Tệp kết quả quá lớn (3,000 byte, tối đa 1,000 byte)"
    assert pkg.meta()["files"][0]["size"] == 3000


def _wire(b64: str) -> dict:
    return {
        "MaVanBan": "VB-1",
        "MaHoSo": "000.00.00.H36-220701-0001",
        "LoaiKetQua": "01",
        "VanBanDi": {"DinhKem": [{"Ten": "ketqua.pdf", "Base64": b64}]},
    }


@pytest.mark.fast
def test_the_answer_cap_follows_the_file_limit():
    settings = IOfficeSettings(base_url="https://x", token="t")
    assert settings.max_result_bytes == 12 * MIB  # as the Connection form says (provider.py)
    assert settings.max_answer_bytes == 16 * MIB + MIB
    assert IOfficeSettings("https://x", "t", max_result_bytes=3 * MIB).max_answer_bytes == 5 * MIB


def test_an_oversized_crl_is_unavailable_not_read_whole(standins):
    client = IOfficeClient(
        IOfficeSettings(
            base_url=standins.ioffice_url,
            token=IOFFICE_TOKEN,
            timeout=10.0,
            max_result_bytes=3 * MIB,  # an answer cap of 5 MiB
            crl_url=f"{standins.ioffice_root}/_admin/huge?megabytes=200",
            retry=RetryPolicy(attempts=2, backoff=0.01, backoff_max=0.02),
        )
    )
    tracemalloc.start()
    try:
        with pytest.raises(RevocationUnavailable) as unavailable:
            client.crls()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        client.close()
    assert isinstance(unavailable.value.__cause__, http.AnswerTooLarge), unavailable.value.__cause__
    assert peak < 32 * MIB, f"{peak / MIB:.1f} MiB held reading a 200 MB CRL"


def test_the_async_client_reads_no_more_than_its_cap(standins):
    url = f"{standins.ioffice_root}/_admin/huge?megabytes=200"

    async def read() -> None:
        async with httpx.AsyncClient(timeout=10.0) as client:
            with pytest.raises(http.AnswerTooLarge) as refused:
                await http.asend(client, "GET", url, max_bytes=2 * MIB)
            assert refused.value.limit == 2 * MIB
            small = await http.asend(
                client, "GET", f"{standins.ioffice_root}/_admin/huge?megabytes=1", max_bytes=2 * MIB
            )
            assert len(small.content) == MIB and small.text.startswith("AAAA")

    tracemalloc.start()
    try:
        asyncio.run(read())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * MIB, f"{peak / MIB:.1f} MiB held reading a 200 MB answer"
