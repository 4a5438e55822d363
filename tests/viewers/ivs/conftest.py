"""Two P-384 key pairs, made once per module: the site's playback key and another, unregistered one."""

import pytest

from viewers.ivs import tokens


@pytest.fixture(scope="module")
def key():
    return tokens.generate_private_key()


@pytest.fixture(scope="module")
def other_key():
    return tokens.generate_private_key()
