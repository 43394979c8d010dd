pytest_plugins = ["fc_check.plugin"]
