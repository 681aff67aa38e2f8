"""What a Spark session is set to (`spark_session.session_settings`): no JVM
needed. The sessions themselves are `test_spark_parity.py`'s."""

from __future__ import annotations

from cxport.engines.spark_session import (
    DRIVER_CONF,
    LOCAL_CONF,
    SESSION_CONF,
    local_partitions,
    session_settings,
)

PARTITIONS = "spark.sql.shuffle.partitions"
TEN_MILLION_LAKE = 8_215_447_045  # bytes of the 10 M store's lake (docs/performance.md)


def test_a_local_session_shuffles_in_a_partition_per_64_mib_of_its_lake() -> None:
    assert local_partitions(0) == local_partitions(100 << 20) == 2  # the tests' lakes
    assert local_partitions(192 << 20) == 3
    assert local_partitions(TEN_MILLION_LAKE) == 122  # two ran out of heap there
    assert local_partitions(10**13) == 200  # Spark's default, the most

    assert session_settings(data_bytes=TEN_MILLION_LAKE)[PARTITIONS] == "122"
    assert session_settings("local[4]", data_bytes=1 << 30)[PARTITIONS] == "16"
    assert session_settings(data_bytes=None)[PARTITIONS] == LOCAL_CONF[PARTITIONS] == "2"
    given = session_settings(conf={PARTITIONS: "7"}, data_bytes=TEN_MILLION_LAKE)
    assert given[PARTITIONS] == "7"  # the caller's conf has the last word


def test_a_local_sessions_heap_is_the_memory_limit_never_below_a_gib() -> None:
    assert session_settings(memory=3 << 30)["spark.driver.memory"] == "3072m"
    assert session_settings(memory=200 << 20)["spark.driver.memory"] == "1024m"
    assert "spark.driver.memory" not in session_settings()


def test_a_cluster_or_connect_session_keeps_its_own_partitions_and_memory() -> None:
    for where in (
        {"master": "spark://10.0.0.1:7077"},
        {"master": "yarn"},
        {"remote": "sc://h:15002"},
    ):
        settings = session_settings(**where, memory=3 << 30, data_bytes=TEN_MILLION_LAKE)
        assert PARTITIONS not in settings, where
        assert "spark.driver.memory" not in settings, where
        assert not set(LOCAL_CONF) & set(settings), where
        assert settings.items() >= SESSION_CONF.items(), where
    assert session_settings("yarn").items() >= DRIVER_CONF.items()  # this process drives it
    assert not set(DRIVER_CONF) & set(session_settings(remote="sc://h:15002"))
