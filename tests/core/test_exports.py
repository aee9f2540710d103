import deepflix


def test_all_is_sorted_and_complete() -> None:
    assert deepflix.__all__ == sorted(deepflix.__all__)
    for name in deepflix.__all__:
        assert hasattr(deepflix, name), name
