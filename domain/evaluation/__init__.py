"""述职评议考核 and 调度通报: scorecards, responsibility reports, monthly bulletins."""
