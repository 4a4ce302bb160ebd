#!/bin/sh
# Greets, and says on which machine it runs and for which platform it was built.
echo "$(cat "$HELLO_HOME/greeting"), $1!"
echo "machine: $(uname -m) (built as $(cat "$HELLO_HOME/machine"))"
cat "$HELLO_HOME/build-info.txt"
