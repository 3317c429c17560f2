from pathlib import Path

import pytest

from platform_streams.demo.passthrough import PassThroughSettings
from platform_streams.settings import ConfigError, load_settings


def test_layers_yaml_values_env_overrides(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("name: p\ninputs: [a]\noutput: b\nbatch_max: 10\npoll_timeout_ms: 5\n")
    settings = load_settings(
        PassThroughSettings,
        yaml_path=config,
        values={"batch_max": 20},
        env={"TRADEPLAT_BATCH_MAX": "30", "TRADEPLAT_KAFKA__CONSUMER": "{fetch.wait.max.ms: 50}", "OTHER": "x"},
        overrides=["batch_max=40", "validate=false"],
    )
    assert settings.batch_max == 40
    assert settings.poll_timeout_ms == 5
    assert settings.validate is False
    assert settings.kafka.consumer == {"fetch.wait.max.ms": 50}


def test_error_names_the_field_and_the_value() -> None:
    with pytest.raises(ConfigError, match=r"batch_max: Expected `int`, got `str` \(got 'lots'\)"):
        load_settings(PassThroughSettings, values={"name": "p", "inputs": ["a"], "output": "b", "batch_max": "lots"}, env={})


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ConfigError, match="batch_maxx"):
        load_settings(PassThroughSettings, values={"name": "p", "inputs": ["a"], "output": "b", "batch_maxx": 1}, env={})


def test_missing_required_field() -> None:
    with pytest.raises(ConfigError, match="output"):
        load_settings(PassThroughSettings, values={"name": "p", "inputs": ["a"]}, env={})


def test_bad_yaml_file(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(PassThroughSettings, yaml_path=config, env={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(PassThroughSettings, yaml_path=tmp_path / "missing.yaml", env={})


def test_override_syntax() -> None:
    with pytest.raises(ConfigError, match="field=value"):
        load_settings(PassThroughSettings, values={"name": "p", "inputs": ["a"], "output": "b"}, env={}, overrides=["oops"])


def test_bootstrap_servers_fall_back_to_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(PassThroughSettings, values={"name": "p", "inputs": ["a"], "output": "b"}, env={})
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k:9092")
    assert settings.resolved_bootstrap_servers() == "k:9092"
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS")
    with pytest.raises(ConfigError, match="KAFKA_BOOTSTRAP_SERVERS"):
        settings.resolved_bootstrap_servers()
