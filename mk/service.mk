# Service targets, as in the original tool (logic in scripts/service.sh).
.PHONY: install start stop restart status logs error-logs uninstall update-token
install: build
	BUILD=$(BUILD) scripts/service.sh install
start stop restart status logs error-logs uninstall update-token:
	BUILD=$(BUILD) scripts/service.sh $@
