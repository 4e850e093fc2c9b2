"""四级联动: figures rolled up from units and communities to streets, districts and the city."""
