"""EIP-712 parsing, hashing and recovery: agrees with eth-account, refuses every malformed shape."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.merkle import keccak256
from partners import eip712
from partners.errors import RecordRejected, RejectCode
from tests.partner_factories import DEADLINE, DOMAIN, high_s, sign

ACCT = Account.create()
# A checksummed address with the case of one letter flipped.
BAD_CHECKSUM = "0x" + "aBcDeF0123456789aBcDeF0123456789aBcDeF01"


def _survey(**over: Any) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "investigationId": 7, "caseReference": "CASE-7", "findingsCommitment": "0x" + "ab" * 32,
        "conclusionCode": 2, "assessor": ACCT.address, "nonce": 1, "deadline": DEADLINE,
    }
    msg.update(over)
    return msg


def _code(payload: Any, domain: eip712.Domain = DOMAIN) -> str:
    with pytest.raises(RecordRejected) as info:
        eip712.parse_typed_data(payload, expected=domain)
    return info.value.code


def test_digest_and_recovery_agree_with_eth_account() -> None:
    payload, signature = sign(ACCT, "SurveyReport", _survey())
    record = eip712.parse_typed_data(payload, expected=DOMAIN)
    signable = encode_typed_data(full_message=payload)
    expected = keccak256(b"\x19" + signable.version + signable.header + signable.body)
    digest = eip712.digest(record, DOMAIN)
    assert digest == expected
    assert eip712.recover(digest, eip712.parse_signature(signature)) == ACCT.address.lower()
    assert record.signer == ACCT.address.lower() and record.nonce == 1 and record.deadline == DEADLINE


@settings(max_examples=40, deadline=None)
@given(
    inv=st.integers(min_value=0, max_value=2**256 - 1),
    ref=st.text(min_size=1, max_size=64).filter(lambda s: s.strip() != ""),
    code=st.integers(min_value=0, max_value=2**16 - 1),
    nonce=st.integers(min_value=0, max_value=2**256 - 1),
    commitment=st.binary(min_size=32, max_size=32),
    chain=st.integers(min_value=1, max_value=2**64),
)
def test_struct_hash_matches_the_public_eth_account_api(
    inv: int, ref: str, code: int, nonce: int, commitment: bytes, chain: int
) -> None:
    domain = eip712.Domain(chain_id=chain, verifying_contract="0x" + "12" * 20)
    msg = _survey(investigationId=inv, caseReference=ref, conclusionCode=code, nonce=nonce,
                  findingsCommitment="0x" + commitment.hex())
    payload = eip712.typed_data("SurveyReport", msg, domain)
    record = eip712.parse_typed_data(payload, expected=domain)
    signable = encode_typed_data(full_message=payload)
    assert eip712.digest(record, domain) == keccak256(b"\x19\x01" + signable.header + signable.body)


def test_numbers_may_come_as_decimal_or_hex_strings_like_ethers_payloads() -> None:
    payload = eip712.typed_data("SurveyReport", _survey(investigationId="7", nonce="0x01", conclusionCode="2"), DOMAIN)
    payload["domain"]["chainId"] = hex(DOMAIN.chain_id)
    payload["types"].pop("EIP712Domain")  # optional: ethers' signTypedData takes types without it
    record = eip712.parse_typed_data(payload, expected=DOMAIN)
    assert record.message["investigationId"] == 7 and record.nonce == 1


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda p: p.__setitem__("primaryType", "Mail"), "MALFORMED"),
        (lambda p: p["types"]["SurveyReport"].pop(), "MALFORMED"),
        (lambda p: p["types"]["SurveyReport"][0].__setitem__("type", "uint128"), "MALFORMED"),
        (lambda p: p["types"].__setitem__("Extra", []), "MALFORMED"),
        (lambda p: p["message"].pop("nonce"), "MALFORMED"),
        (lambda p: p["message"].__setitem__("extra", 1), "MALFORMED"),
        (lambda p: p["message"].__setitem__("investigationId", -1), "MALFORMED"),
        (lambda p: p["message"].__setitem__("investigationId", 2**256), "MALFORMED"),
        (lambda p: p["message"].__setitem__("conclusionCode", 70000), "MALFORMED"),
        (lambda p: p["message"].__setitem__("conclusionCode", True), "MALFORMED"),
        (lambda p: p["message"].__setitem__("findingsCommitment", "0x1234"), "MALFORMED"),
        (lambda p: p["message"].__setitem__("assessor", "0x1234"), "MALFORMED"),
        (lambda p: p["message"].__setitem__("assessor", BAD_CHECKSUM), "MALFORMED"),
        (lambda p: p["message"].__setitem__("caseReference", " "), "MALFORMED"),
        (lambda p: p["message"].__setitem__("caseReference", "x" * 65), "MALFORMED"),
        (lambda p: p["domain"].pop("version"), "MALFORMED"),
        (lambda p: p["domain"].__setitem__("name", "Other"), "WRONG_DOMAIN"),
        (lambda p: p["domain"].__setitem__("version", "2"), "WRONG_DOMAIN"),
        (lambda p: p["domain"].__setitem__("chainId", 1), "WRONG_CHAIN"),
        (lambda p: p["domain"].__setitem__("verifyingContract", "0x" + "11" * 20), "WRONG_CONTRACT"),
        (lambda p: p.__setitem__("extra", {}), "MALFORMED"),
    ],
)
def test_malformed_and_foreign_typed_data_is_refused_with_its_code(mutate: Any, code: str) -> None:
    payload = eip712.typed_data("SurveyReport", _survey(), DOMAIN)
    broken = copy.deepcopy(payload)
    mutate(broken)
    assert _code(broken) == code


def test_non_objects_and_bad_dates_are_malformed() -> None:
    assert _code([]) == "MALFORMED"
    assert _code({"primaryType": "SurveyReport", "types": "x", "domain": {}, "message": {}}) == "MALFORMED"
    bill = {"caseReference": "C", "billNumber": "B", "amountFen": 1, "itemsCommitment": "0x" + "00" * 32,
            "issuedOn": "2026-02-30", "hospital": ACCT.address, "nonce": 1, "deadline": DEADLINE}
    assert _code(eip712.typed_data("HospitalBill", bill, DOMAIN)) == "MALFORMED"


def test_signature_forms() -> None:
    payload, signature = sign(ACCT, "SurveyReport", _survey())
    record = eip712.parse_typed_data(payload, expected=DOMAIN)
    digest = eip712.digest(record, DOMAIN)
    raw = bytes.fromhex(signature[2:])
    zero_one = "0x" + (raw[:64] + bytes([raw[64] - 27])).hex()  # v as 0/1 is normalised
    assert eip712.recover(digest, eip712.parse_signature(zero_one)) == ACCT.address.lower()
    with pytest.raises(RecordRejected) as hs:
        eip712.parse_signature(high_s(signature))
    assert hs.value.reject_code is RejectCode.HIGH_S
    for bad in ["0x1234", signature[:-2] + "1d", "0x" + "00" * 65, 42, signature + "00"]:
        with pytest.raises(RecordRejected) as info:
            eip712.parse_signature(bad)
        assert info.value.reject_code is RejectCode.MALFORMED, bad


def test_a_signature_over_other_data_recovers_to_another_address() -> None:
    payload, signature = sign(ACCT, "SurveyReport", _survey())
    record = eip712.parse_typed_data(payload, expected=DOMAIN)
    other = eip712.parse_typed_data(eip712.typed_data("SurveyReport", _survey(nonce=2), DOMAIN), expected=DOMAIN)
    sig = eip712.parse_signature(signature)
    assert eip712.recover(eip712.digest(record, DOMAIN), sig) == ACCT.address.lower()
    assert eip712.recover(eip712.digest(other, DOMAIN), sig) != ACCT.address.lower()
