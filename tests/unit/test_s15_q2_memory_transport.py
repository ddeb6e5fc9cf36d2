"""The memory transport's shared DeliverLocal outcome is the record a new Delivered() would be."""
from lab.core.exchange import outcomes as O
from lab.memory import transport as MT


def test_stored_outcome_equals_a_new_delivered():
    assert MT._STORED.__class__ is O.Delivered
    assert MT._STORED == O.Delivered()
    assert (MT._STORED.reply, MT._STORED.endpoint, MT._STORED.refused, MT._STORED.deferred) == ("", "", (), ())
