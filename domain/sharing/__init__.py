"""Resource sharing (三张清单): needs and resources, vetted by the street, then listed."""
