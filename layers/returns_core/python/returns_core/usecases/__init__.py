"""What the service does, one module per job: start a return (`request_return`), issue its label
(`labels`), follow the carrier (`carrier_tracking`), receive and grade parcels (`warehouse`),
pay the refund exactly once (`settlement`), ship exchanges (`exchanges`), react to a wait that
ran out (`timeouts`), move a return and resume its workflow (`lifecycle`), and what follows each
move (`side_effects`, `notify`). They decide with rules/, store with store/, send with outbound/.
"""
