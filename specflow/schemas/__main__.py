from specflow.schemas import write_all

write_all()
